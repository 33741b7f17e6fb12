import type { Knex } from 'knex';
import type { OpenMetadataQueries, PipelineRun, SchemaIntrospector } from '../types.js';
import { rows } from './rows.js';

export class PostgresOpenMetadataQueries implements OpenMetadataQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async changeLogVersions(): Promise<string[] | undefined> {
    if (!(await this.introspect.tableExists('SERVER_CHANGE_LOG'))) return undefined;
    return rows<{ version: string }>(await this.knex.raw('SELECT version FROM server_change_log')).map((r) => r.version);
  }

  async staleRunningPipelines(olderThan: number): Promise<PipelineRun[]> {
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    const found = rows<{ hash: string; runId: string | null; startDate: string | null; ts: string; name: string | null }>(
      await this.knex.raw(
        `SELECT s.entityfqnhash AS hash, s.json->>'runId' AS "runId", s.json->>'startDate' AS "startDate",
                s.json->>'timestamp' AS ts,
                ${withNames ? "p.json->>'fullyQualifiedName'" : 'NULL'} AS name
           FROM entity_extension_time_series s
           ${withNames ? 'LEFT JOIN ingestion_pipeline_entity p ON p.fqnhash = s.entityfqnhash' : ''}
          WHERE s.extension = 'ingestionPipeline.pipelineStatus'
            AND s.json->>'pipelineState' = 'running'
            AND (s.json->>'timestamp')::bigint < ?
          ORDER BY (s.json->>'timestamp')::bigint`, [olderThan]));
    return found.map((r) => ({
      entityFQNHash: r.hash,
      pipelineName: r.name ?? undefined,
      runId: r.runId ?? '',
      startDate: r.startDate === null ? undefined : Number(r.startDate),
      timestamp: Number(r.ts),
    }));
  }
}
