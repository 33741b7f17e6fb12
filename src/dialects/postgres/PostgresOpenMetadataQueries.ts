import type { Knex } from 'knex';
import type { OpenMetadataQueries, PipelineRun, SchemaIntrospector } from '../types.js';
import { cancellable } from '../cancellable.js';
import { rows } from './rows.js';

/** The rows staleRunningPipelines reports and failStaleRunningPipelines changes: one WHERE for both. */
const STALE_RUNNING = `s.extension = 'ingestionPipeline.pipelineStatus'
            AND s.json->>'pipelineState' = 'running'
            AND (s.json->>'timestamp')::bigint < ?`;

interface StaleRow { hash: string; runId: string | null; startDate: string | null; ts: string; name: string | null }

export class PostgresOpenMetadataQueries implements OpenMetadataQueries {
  constructor(private readonly knex: Knex, private readonly introspect: SchemaIntrospector,
    private readonly cancel: () => Promise<void> = async () => undefined) {}

  async changeLogVersions(): Promise<string[] | undefined> {
    if (!(await this.introspect.tableExists('SERVER_CHANGE_LOG'))) return undefined;
    const counted = (await this.hasStatus()) ? " WHERE status = 'COMPLETED'" : '';
    return rows<{ version: string }>(await this.knex.raw(`SELECT version FROM server_change_log${counted}`)).map((r) => r.version);
  }

  async unfinishedMigrations(): Promise<Array<{ version: string; status: string }>> {
    if (!(await this.introspect.tableExists('SERVER_CHANGE_LOG')) || !(await this.hasStatus())) return [];
    return rows<{ version: string; status: string }>(await this.knex.raw(
      "SELECT version, status FROM server_change_log WHERE status <> 'COMPLETED' ORDER BY installed_rank"));
  }

  async icebergPipelineCount(): Promise<number> {
    if (!(await this.introspect.tableExists('ingestion_pipeline_entity')) || !(await this.introspect.tableExists('dbservice_entity'))) return 0;
    // 1.13.0's postDataMigrationSQLScript deletes exactly these: pipelines whose service is an Iceberg database service.
    const [row] = rows<{ n: string | number }>(await this.knex.raw(
      `SELECT COUNT(*) AS n FROM ingestion_pipeline_entity p JOIN dbservice_entity s ON p.json::jsonb -> 'service' ->> 'id' = s.id
        WHERE s.serviceType = 'Iceberg' AND p.json::jsonb -> 'service' ->> 'type' = 'databaseService'`));
    return Number(row?.n ?? 0);
  }

  /** The 2.1 history table has `status` (MigrationHistoryTable); older ones do not. */
  private async hasStatus(): Promise<boolean> {
    const [row] = rows<{ n: string | number }>(await this.knex.raw(
      `SELECT COUNT(*) AS n FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'server_change_log' AND column_name = 'status'`));
    return Number(row?.n ?? 0) > 0;
  }

  async staleRunningPipelines(olderThan: number): Promise<PipelineRun[]> {
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    return selectStale(this.knex, olderThan, withNames, false);
  }

  async failStaleRunningPipelines(olderThan: number, now: number, options: { signal?: AbortSignal } = {}): Promise<PipelineRun[]> {
    // Asked before the transaction: the dialect's single pinned connection belongs to the transaction once it starts.
    if (!(await this.introspect.tableExists('entity_extension_time_series'))) return [];
    const withNames = await this.introspect.tableExists('ingestion_pipeline_entity');
    // Its FOR UPDATE may wait for a running pipeline's row lock: aborting (the step's time limit, SIGTERM) cancels it.
    return cancellable(options.signal, this.cancel, (check) => this.knex.transaction(async (trx) => {
      check();
      // FOR UPDATE OF s: a run that finishes meanwhile is either reported and changed, or neither.
      const found = await selectStale(trx, olderThan, withNames, true);
      if (found.length > 0) {
        await trx.raw(
          `UPDATE entity_extension_time_series s
              SET json = s.json || jsonb_build_object('pipelineState', 'failed', 'endDate', ?::bigint)
            WHERE ${STALE_RUNNING}`, [now, olderThan]);
      }
      return found;
    }));
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
