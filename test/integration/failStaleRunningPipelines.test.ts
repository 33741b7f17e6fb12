import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createPipelineTables, insertPipelineRuns } from '../fixtures/openmetadata/pipelineStatus.js';
import { createScratchDatabase, SERVERS, ScratchDatabase } from '../helpers/servers.js';

const HOUR = 3_600_000;

interface StatusRow { hash: string; json: { runId: string; pipelineState: string; startDate: number; timestamp: number; endDate?: number } }

async function statuses(db: Dialect): Promise<Map<string, StatusRow['json']>> {
  const result = await db.knex.raw('SELECT json FROM entity_extension_time_series');
  const list = (db.engine === 'mysql' ? result[0] : result.rows) as { json: unknown }[];
  const byRun = new Map<string, StatusRow['json']>();
  for (const { json } of list) {
    const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as StatusRow['json'];
    byRun.set(parsed.runId, parsed);
  }
  return byRun;
}

for (const server of SERVERS) {
  describe(`failStaleRunningPipelines on ${server.label}`, () => {
    let scratch: ScratchDatabase;
    let app: Dialect;
    const now = Date.now();

    before(async () => {
      scratch = await createScratchDatabase(server, 'omm_stale');
      app = await connect(scratch.appSpec);
      // As the application user, who owns OpenMetadata's tables in real life.
      await createPipelineTables(app);
      await insertPipelineRuns(app, [
        { fqn: 'svc.ingest_a', runId: 'stale-1', state: 'running', startedMsAgo: 30 * HOUR },
        { fqn: 'svc.ingest_a', runId: 'stale-2', state: 'running', startedMsAgo: 9 * HOUR },
        { fqn: 'svc.ingest_b', runId: 'fresh-running', state: 'running', startedMsAgo: 1 * HOUR },
        { fqn: 'svc.ingest_b', runId: 'old-success', state: 'success', startedMsAgo: 40 * HOUR },
        { fqn: 'svc.ingest_b', runId: 'old-queued', state: 'queued', startedMsAgo: 40 * HOUR },
        { fqn: 'svc.ingest_c', runId: 'old-failed', state: 'failed', startedMsAgo: 50 * HOUR },
      ], now);
    });

    after(async () => {
      await app?.close();
      await scratch?.drop();
    });

    it('marks only the stale running runs failed with endDate = now, and returns them', async () => {
      const olderThan = now - 6 * HOUR;
      const before = await statuses(app);
      const reported = await app.openmetadata.staleRunningPipelines(olderThan);
      const fixedAt = now + 5;
      const fixed = await app.openmetadata.failStaleRunningPipelines(olderThan, fixedAt);

      assert.deepEqual(fixed, reported, 'returns what staleRunningPipelines reported');
      assert.deepEqual(fixed.map((r) => r.runId), ['stale-1', 'stale-2']);
      assert.equal(fixed[0].pipelineName, 'svc.ingest_a');

      const afterFix = await statuses(app);
      for (const runId of ['stale-1', 'stale-2']) {
        const row = afterFix.get(runId)!;
        assert.equal(row.pipelineState, 'failed');
        assert.equal(row.endDate, fixedAt);
        assert.equal(typeof row.endDate, 'number', 'endDate stays an epoch-ms number in the JSON');
        assert.equal(row.startDate, before.get(runId)!.startDate);
        assert.equal(row.timestamp, before.get(runId)!.timestamp);
      }
      for (const runId of ['fresh-running', 'old-success', 'old-queued', 'old-failed']) {
        assert.deepEqual(afterFix.get(runId), before.get(runId), `${runId} untouched`);
      }
      assert.deepEqual(await app.openmetadata.staleRunningPipelines(olderThan), [], 'nothing stale is left');
    });

    it('a second call changes nothing and returns nothing; the connection is usable afterwards', async () => {
      const before = await statuses(app);
      assert.deepEqual(await app.openmetadata.failStaleRunningPipelines(now - 6 * HOUR, now + 99), []);
      assert.deepEqual(await statuses(app), before);
      assert.ok(Array.isArray(await app.openmetadata.changeLogVersions() ?? []));
    });
  });

  describe(`failStaleRunningPipelines on ${server.label} without OpenMetadata's tables`, () => {
    let scratch: ScratchDatabase;
    before(async () => { scratch = await createScratchDatabase(server, 'omm_stale_none'); });
    after(async () => { await scratch?.drop(); });

    it('returns an empty list', async () => {
      assert.deepEqual(await scratch.root.openmetadata.failStaleRunningPipelines(Date.now(), Date.now()), []);
    });
  });
}
