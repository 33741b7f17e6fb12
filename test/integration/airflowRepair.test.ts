import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { OmMigrateError } from '../../src/errors.js';
import { createAirflowSchema, rowCounts, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { addIdReferenceColumns, strayReferences } from '../fixtures/airflow/idReferenceColumns.js';
import { schemaSnapshot } from '../fixtures/airflow/schemaSnapshot.js';
import { SERVERS, ScratchDatabase, TestServer, createScratchDatabase } from '../helpers/servers.js';

const ROWS = 60;

/** A scratch Airflow database at 05234396c6fc, built by its own (non-super) user as Airflow's would be. */
async function airflowDatabase(server: TestServer): Promise<{ db: ScratchDatabase; app: Dialect; cleanup(): Promise<void> }> {
  const db = await createScratchDatabase(server, 'omm_af', { seesOtherSessions: true });
  const app = await connect(db.appSpec);
  await createAirflowSchema(app, server.engine);
  await seedTaskInstances(app, server.engine, ROWS);
  return { db, app, async cleanup() { await app.close(); await db.drop(); } };
}

async function crashAfter(db: ScratchDatabase, step: number): Promise<void> {
  await assert.rejects(runStandInMigration(db.appSpec, { stopAfter: step }), (e) => e instanceof SimulatedCrash && e.step === step);
}

const isCode = (code: string) => (e: unknown) => e instanceof OmMigrateError && e.code === code;

for (const server of SERVERS) {
  describe(`Airflow repair on ${server.label}`, () => {
    let reference: Record<string, unknown>;
    let referenceCounts: Record<string, number>;

    before(async () => {
      const fresh = await airflowDatabase(server);
      try {
        reference = await schemaSnapshot(fresh.app);
        referenceCounts = await rowCounts(fresh.app);
      } finally {
        await fresh.cleanup();
      }
    });

    it('leaves a healthy 05234396c6fc database untouched (NOTHING_TO_DO), and a completed migration too', async () => {
      const { db, app, cleanup } = await airflowDatabase(server);
      try {
        const state = await detectAirflowState(app);
        assert.equal(state.kind, 'healthy-before');
        assert.equal(state.partialStatePossible, server.engine === 'mysql');
        assert.throws(() => planRepair(state, app.airflowRepair), isCode('NOTHING_TO_DO'));
        assert.deepEqual(await schemaSnapshot(app), reference);
        assert.equal(await runStandInMigration(db.appSpec), 'migrated');
        const migrated = await detectAirflowState(app);
        assert.equal(migrated.kind, 'fully-migrated');
        assert.throws(() => planRepair(migrated, app.airflowRepair), isCode('NOTHING_TO_DO'));
      } finally {
        await cleanup();
      }
    });

    it('a foreign key missing before d59cbbef95eb ever ran is not called "half-applied d59cbbef95eb"; the repair re-creates it', async () => {
      const { db, app, cleanup } = await airflowDatabase(server);
      try {
        const drop = server.engine === 'mysql' ? 'ALTER TABLE task_map DROP FOREIGN KEY task_map_task_instance_fkey'
          : 'ALTER TABLE task_map DROP CONSTRAINT task_map_task_instance_fkey';
        await db.root.knex.raw(drop);
        const state = await detectAirflowState(app);
        assert.equal(state.kind, 'half-applied', 'repairable: the seven keys are part of the 05234396c6fc shape');
        assert.doesNotMatch(state.summary, /half-applied d59cbbef95eb/);
        assert.match(state.summary, /^revision 05234396c6fc with foreign keys missing: task_map\.task_map_task_instance_fkey, before d59cbbef95eb ever ran/);
        const plan = planRepair(state, app.airflowRepair);
        assert.deepEqual(plan.actions.map((a) => a.id), ['create-foreign-key']);
        await runRepair(app, plan);
        assert.deepEqual(await schemaSnapshot(app), reference);
        if (server.engine === 'mysql') {
          // Why it is repaired at all: d59cbbef95eb's step 5 drops each of the seven keys, and fails on a missing one.
          await db.root.knex.raw(drop);
          await assert.rejects(runStandInMigration(db.appSpec), (e: Error) => /1091/.test(e.message) && /task_map_task_instance_fkey/.test(e.message));
        }
      } finally {
        await cleanup();
      }
    });

    if (server.engine === 'mysql') {
      for (let step = 1; step <= 8; step += 1) {
        it(`repairs the stand-in stopped after step ${step}, keeps every row, and the migration then succeeds`, async () => {
          const { db, app, cleanup } = await airflowDatabase(server);
          try {
            await crashAfter(db, step);
            const state = await detectAirflowState(app);
            assert.equal(state.kind, 'half-applied', state.summary);
            assert.equal(state.facts.idPresent, true);
            assert.equal(state.facts.leftoverFunction, step === 2 || step === 3);
            assert.equal(state.facts.missingForeignKeys.length, step >= 5 && step < 8 ? 7 : 0);
            assert.equal(state.facts.compositePrimaryKey, step < 6);
            assert.equal(state.facts.compositeUniqueKey, step >= 7);

            const plan = planRepair(state, app.airflowRepair);
            const reported: string[] = [];
            const result = await runRepair(app, plan, { onAction: (a) => reported.push(a.id) });
            assert.deepEqual(reported, plan.actions.map((a) => a.id));
            assert.equal(result.after.kind, 'healthy-before');
            assert.deepEqual(await schemaSnapshot(app), reference);
            assert.deepEqual(await rowCounts(app), referenceCounts);

            assert.equal(await runStandInMigration(db.appSpec), 'migrated');
            assert.equal((await detectAirflowState(app)).kind, 'fully-migrated');
            assert.deepEqual(await rowCounts(app), referenceCounts);
          } finally {
            await cleanup();
          }
        });
      }

      it('continues where an interrupted repair stopped', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await crashAfter(db, 7);
          const first = planRepair(await detectAirflowState(app), app.airflowRepair);
          // As if killed after two actions: run them alone, then start over from detection.
          await runRepair(app, { ...first, actions: first.actions.slice(0, 2) }).catch(() => undefined);
          const second = planRepair(await detectAirflowState(app), app.airflowRepair);
          assert.ok(second.actions.length < first.actions.length);
          await runRepair(app, second);
          assert.deepEqual(await schemaSnapshot(app), reference);
        } finally {
          await cleanup();
        }
      });

      it("repairs the state the OpenMetadata docs' script assumes: stamped d59cbbef95eb, id present but not the key", async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await crashAfter(db, 3);
          await db.root.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'half-applied');
          const plan = planRepair(state, app.airflowRepair);
          assert.deepEqual(plan.actions.map((a) => a.id), ['drop-function', 'drop-id', 'stamp-revision']);
          await runRepair(app, plan);
          assert.deepEqual(await schemaSnapshot(app), reference);
        } finally {
          await cleanup();
        }
      });

      it('dry run: planning changes nothing and shows the exact SQL', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await crashAfter(db, 6);
          const before = await schemaSnapshot(app);
          const plan = planRepair(await detectAirflowState(app), app.airflowRepair);
          assert.ok(plan.actions.every((a) => a.sql.length > 0));
          assert.match(plan.actions.map((a) => a.sql.join('\n')).join('\n'), /ALTER TABLE task_instance ADD PRIMARY KEY \(dag_id, task_id, run_id, map_index\)/);
          assert.deepEqual(await schemaSnapshot(app), before);
        } finally {
          await cleanup();
        }
      });

      it('--truncate-task-instance needs --yes and a verified backup, then empties task_instance and its dependants', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await crashAfter(db, 7);
          const state = await detectAirflowState(app);
          assert.throws(() => planRepair(state, app.airflowRepair, { truncateTaskInstance: true }), isCode('USAGE'));
          assert.throws(() => planRepair(state, app.airflowRepair, { truncateTaskInstance: true, confirmed: true }), isCode('BLOCKED'));
          await runRepair(app, planRepair(state, app.airflowRepair, { truncateTaskInstance: true, confirmed: true, backupVerified: true }));
          assert.deepEqual(await schemaSnapshot(app), reference);
          assert.ok(Object.values(await rowCounts(app)).every((n) => n === 0));
        } finally {
          await cleanup();
        }
      });

      it('--fix-malformed-ids rewrites apache/airflow#54554 ids as UUIDv7 of the row time, and refuses unknown revisions', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await runStandInMigration(db.appSpec, { malformedIds: true });
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'fully-migrated');
          assert.equal(state.facts.malformedIdCount, ROWS);
          assert.throws(() => planRepair(state, app.airflowRepair), isCode('NOTHING_TO_DO'));
          await runRepair(app, planRepair(state, app.airflowRepair, { fixMalformedIds: true }));
          assert.equal(await app.airflow.malformedIdCount(), 0);
          const [rows] = await db.root.knex.raw(
            "SELECT id, LPAD(LOWER(HEX(FLOOR(UNIX_TIMESTAMP(queued_dttm) * 1000))), 12, '0') AS ms FROM task_instance WHERE queued_dttm IS NOT NULL") as [Array<{ id: string; ms: string }>];
          assert.ok(rows.length > 0);
          for (const r of rows) {
            assert.match(r.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            assert.equal(r.id.replace(/-/g, '').slice(0, 12), r.ms);
          }
          assert.deepEqual(await rowCounts(app), referenceCounts);

          await runStandInMigration(db.appSpec).catch(() => undefined);
          await db.root.knex.raw("UPDATE alembic_version SET version_num = 'aaaaaaaaaaaa'");
          await db.root.knex.raw("UPDATE task_instance SET id = CONCAT(LEFT(id, 28)) LIMIT 1");
          const unknown = await detectAirflowState(app);
          assert.equal(unknown.facts.malformedIdCount, 1);
          assert.throws(() => planRepair(unknown, app.airflowRepair, { fixMalformedIds: true }), isCode('BLOCKED'));
        } finally {
          await cleanup();
        }
      });

      it('--fix-malformed-ids rewrites the referencing columns to the same new ids, in one transaction: all or nothing', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await runStandInMigration(db.appSpec, { malformedIds: true });
          await addIdReferenceColumns(db.root.knex);
          const state = await detectAirflowState(app);
          assert.equal(state.facts.revision, '29ce7909c52b');
          assert.equal(state.facts.malformedIdCount, ROWS);
          const plan = planRepair(state, app.airflowRepair, { fixMalformedIds: true });
          const ids = async () => (await db.root.knex.raw('SELECT id FROM task_instance ORDER BY id'))[0].map((r: { id: string }) => r.id).join();
          const before = await ids();

          // A statement that fails half-way (a reference column that is not there): nothing may have changed.
          const broken = { ...plan, actions: plan.actions.map((a) => ({ ...a, sql: [...a.sql.slice(0, -2), 'UPDATE task_instance_note SET no_such_column = 1', ...a.sql.slice(-2)] })) };
          await assert.rejects(runRepair(app, broken));
          assert.equal(await ids(), before);
          assert.equal(await strayReferences(db.root.knex), 0);

          await runRepair(app, plan);
          assert.equal(await app.airflow.malformedIdCount(), 0);
          assert.notEqual(await ids(), before);
          // Every copy of an id follows it, with or without ON UPDATE CASCADE on its foreign key.
          assert.equal(await strayReferences(db.root.knex), 0);
          const [[fk]] = await db.root.knex.raw('SELECT @@foreign_key_checks AS on_') as [[{ on_: number }]];
          assert.equal(Number(fk.on_), 1);
        } finally {
          await cleanup();
        }
      });
    } else {
      for (const step of [3, 7]) {
        it(`is transactional: the stand-in stopped after step ${step} leaves nothing behind`, async () => {
          const { db, app, cleanup } = await airflowDatabase(server);
          try {
            await crashAfter(db, step);
            const state = await detectAirflowState(app);
            assert.equal(state.kind, 'healthy-before');
            assert.match(state.summary, /no partial state is possible/);
            assert.deepEqual(await schemaSnapshot(app), reference);
          } finally {
            await cleanup();
          }
        });
      }

      it('repairs a manual stamp of d59cbbef95eb on the old schema', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await db.root.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'half-applied');
          assert.equal(state.partialStatePossible, false);
          const plan = planRepair(state, app.airflowRepair);
          assert.deepEqual(plan.actions.map((a) => a.id), ['stamp-revision']);
          await runRepair(app, plan);
          assert.deepEqual(await schemaSnapshot(app), reference);
          assert.equal(await runStandInMigration(db.appSpec), 'migrated');
        } finally {
          await cleanup();
        }
      });

      it('repairs a migrated schema stamped back to 05234396c6fc, in one transaction', async () => {
        const { db, app, cleanup } = await airflowDatabase(server);
        try {
          await runStandInMigration(db.appSpec);
          await db.root.knex.raw("UPDATE alembic_version SET version_num = '05234396c6fc'");
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'half-applied');
          const plan = planRepair(state, app.airflowRepair);
          assert.equal(plan.transactional, true);
          await runRepair(app, plan);
          assert.deepEqual(await schemaSnapshot(app), reference);
          assert.deepEqual(await rowCounts(app), referenceCounts);
        } finally {
          await cleanup();
        }
      });
    }
  });
}
