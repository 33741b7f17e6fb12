import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createAirflowSchema, rowCounts, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { sqlAlchemyUrl, standInArgv, standInEnv } from '../fixtures/airflow/python/pythonAirflow.js';
import { BinlogMariadb, startBinlogMariadb } from '../helpers/binlogMariadb.js';
import { ScratchDatabase, createScratchDatabase } from '../helpers/servers.js';

/** `airflow db migrate -r d59cbbef95eb` by the Python stand-in under mysqlclient: the errors are the server's. */
function standIn(db: ScratchDatabase): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = standInArgv(['db', 'migrate', '-r', 'd59cbbef95eb']);
  const env = standInEnv({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sqlAlchemyUrl(db.appSpec, 'mysqldb') });
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** apache/airflow#49611 for real: binary logging on, an Airflow user without SUPER. */
describe('Airflow on MariaDB with binary logging, non-SUPER user', () => {
  let binlog: BinlogMariadb;
  let db: ScratchDatabase;
  let app: Dialect;

  before(async () => {
    binlog = await startBinlogMariadb();
    db = await createScratchDatabase(binlog.server, 'omm_af_bin');
    app = await connect(db.appSpec);
    await createAirflowSchema(app, 'mysql');
    await seedTaskInstances(app, 'mysql', 40);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await binlog?.stop();
  });

  it('fails like the real migration: 1419 swallowed, 1305 at the UPDATE, id left behind; a re-run fails on the column', () => {
    const first = standIn(db);
    assert.equal(first.status, 1, first.stderr);
    if (process.env.OM_MIGRATE_TEST_VERBOSE) process.stderr.write(first.stderr);
    // SQLAlchemy logs the 1419 of the second statement while closing the cursor, and goes on (docs/facts/airflow.md);
    // Airflow's log lines go to stdout, the final traceback to stderr.
    assert.match(first.stdout, /Error closing cursor[\s\S]*\(1419, 'You do not have the SUPER privilege and binary logging is enabled/);
    assert.match(first.stderr, new RegExp(`\\(1305, 'FUNCTION ${db.name}\\.uuid_generate_v7 does not exist'\\)`));
    const again = standIn(db);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /\(1060, "Duplicate column name 'id'"\)/);
  });

  it('is detected as half-applied and repaired by the same non-SUPER user; the migration then succeeds once trusted', async () => {
    const counts = await rowCounts(app);
    const state = await detectAirflowState(app);
    assert.equal(state.kind, 'half-applied');
    assert.equal(state.facts.revision, '05234396c6fc');
    assert.deepEqual(state.damage, ['task_instance.id present']);
    const plan = planRepair(state, app.airflowRepair);
    assert.deepEqual(plan.actions.map((a) => a.sql), [['ALTER TABLE task_instance DROP COLUMN id']]);
    await runRepair(app, plan);
    assert.equal((await detectAirflowState(app)).kind, 'healthy-before');
    assert.deepEqual(await rowCounts(app), counts);

    const root = await connect(binlog.server.admin);
    try {
      await root.knex.raw('SET GLOBAL log_bin_trust_function_creators = 1');
      const run = standIn(db);
      assert.equal(run.status, 0, run.stderr);
      assert.equal((await detectAirflowState(app)).kind, 'fully-migrated');
      assert.deepEqual(await rowCounts(app), counts);
    } finally {
      await root.knex.raw('SET GLOBAL log_bin_trust_function_creators = 0').catch(() => undefined);
      await root.close();
    }
  });
});
