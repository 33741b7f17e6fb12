import type { Knex } from 'knex';
import type { OpenMetadataQueries, PipelineRun, SchemaIntrospector } from '../types.js';
import { rows } from './rows.js';

export class MysqlOpenMetadataQueries implements OpenMetadataQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async changeLogVersions(): Promise<string[] | undefined> {
    if (!(await this.introspect.tableExists('SERVER_CHANGE_LOG'))) return undefined;
    return rows<{ version: string }>(await this.knex.raw('SELECT version FROM SERVER_CHANGE_LOG')).map((r) => r.version);
  }

  async staleRunningPipelines(olderThan: number): Promise<PipelineRun[]> {
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    const found = rows<{ hash: string; runId: string | null; startDate: string | null; ts: string; name: string | null }>(
      await this.knex.raw(
        `SELECT s.entityFQNHash AS hash, JSON_UNQUOTE(JSON_EXTRACT(s.json, '$.runId')) AS runId,
                JSON_EXTRACT(s.json, '$.startDate') AS startDate, JSON_EXTRACT(s.json, '$.timestamp') AS ts,
                ${withNames ? "JSON_UNQUOTE(JSON_EXTRACT(p.json, '$.fullyQualifiedName'))" : 'NULL'} AS name
           FROM entity_extension_time_series s
           ${withNames ? 'LEFT JOIN ingestion_pipeline_entity p ON p.fqnHash = s.entityFQNHash' : ''}
          WHERE s.extension = 'ingestionPipeline.pipelineStatus'
            AND JSON_UNQUOTE(JSON_EXTRACT(s.json, '$.pipelineState')) = 'running'
            AND CAST(JSON_EXTRACT(s.json, '$.timestamp') AS SIGNED) < ?
          ORDER BY ts`, [olderThan]));
    return found.map((r) => ({
      entityFQNHash: r.hash,
      pipelineName: r.name ?? undefined,
      runId: r.runId ?? '',
      startDate: r.startDate === null ? undefined : Number(r.startDate),
      timestamp: Number(r.ts),
    }));
  }
}
