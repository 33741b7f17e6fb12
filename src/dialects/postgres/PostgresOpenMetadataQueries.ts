import type { Knex } from 'knex';
import type { OpenMetadataQueries, PipelineRun, SchemaIntrospector } from '../types.js';
import { rows } from './rows.js';

/** The rows staleRunningPipelines reports and failStaleRunningPipelines changes: one WHERE for both. */
const STALE_RUNNING = `s.extension = 'ingestionPipeline.pipelineStatus'
            AND s.json->>'pipelineState' = 'running'
            AND (s.json->>'timestamp')::bigint < ?`;

interface StaleRow { hash: string; runId: string | null; startDate: string | null; ts: string; name: string | null }

export class PostgresOpenMetadataQueries implements OpenMetadataQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  async changeLogVersions(): Promise<string[] | undefined> {
    if (!(await this.introspect.tableExists('SERVER_CHANGE_LOG'))) return undefined;
    return rows<{ version: string }>(await this.knex.raw('SELECT version FROM server_change_log')).map((r) => r.version);
  }

  async staleRunningPipelines(olderThan: number): Promise<PipelineRun[]> {
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    return selectStale(this.knex, olderThan, withNames, false);
  }

  async failStaleRunningPipelines(olderThan: number, now: number): Promise<PipelineRun[]> {
    // Asked before the transaction: the dialect's single pinned connection belongs to the transaction once it starts.
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    return this.knex.transaction(async (trx) => {
      // FOR UPDATE OF s: a run that finishes meanwhile is either reported and changed, or neither.
      const found = await selectStale(trx, olderThan, withNames, true);
      if (found.length > 0) {
        await trx.raw(
          `UPDATE entity_extension_time_series s
              SET json = s.json || jsonb_build_object('pipelineState', 'failed', 'endDate', ?::bigint)
            WHERE ${STALE_RUNNING}`, [now, olderThan]);
      }
      return found;
    });
  }
}

async function selectStale(conn: Knex | Knex.Transaction, olderThan: number, withNames: boolean, lock: boolean): Promise<PipelineRun[]> {
  const found = rows<StaleRow>(
    await conn.raw(
      `SELECT s.entityfqnhash AS hash, s.json->>'runId' AS "runId", s.json->>'startDate' AS "startDate",
              s.json->>'timestamp' AS ts,
              ${withNames ? "p.json->>'fullyQualifiedName'" : 'NULL'} AS name
         FROM entity_extension_time_series s
         ${withNames ? 'LEFT JOIN ingestion_pipeline_entity p ON p.fqnhash = s.entityfqnhash' : ''}
        WHERE ${STALE_RUNNING}
        ORDER BY (s.json->>'timestamp')::bigint${lock ? ' FOR UPDATE OF s' : ''}`, [olderThan]));
  return found.map((r) => ({
    entityFQNHash: r.hash,
    pipelineName: r.name ?? undefined,
    runId: r.runId ?? '',
    startDate: r.startDate === null ? undefined : Number(r.startDate),
    timestamp: Number(r.ts),
  }));
}
