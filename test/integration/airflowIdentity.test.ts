import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { createDagTable } from '../fixtures/airflow/python/pythonAirflow.js';
import { SERVERS, createScratchDatabase, type ScratchDatabase } from '../helpers/servers.js';

/**
 * Issue 25, point 5: identity. A uuid_generate_v7 is dropped by the repair only when the migration's own state proves
 * d59cbbef95eb left it (MySQL: task_instance.id is there and the function has Airflow's signature; PostgreSQL: never,
 * its migration runs in one transaction). Anyone else's function stays, and preflight says Airflow's migration will
 * take it.
 */
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function airflowDb(prefix: string): Promise<{ db: ScratchDatabase; app: Dialect }> {
  const db = await createScratchDatabase(SERVERS.find((s) => s.engine === 'mysql')!, prefix, { seesOtherSessions: true });
  const app = await connect(db.appSpec);
  cleanups.push(async () => { await app.close(); await db.drop(); });
  await createAirflowSchema(app, 'mysql');
  await createDagTable(app.knex, 'mysql');
  await seedTaskInstances(app, 'mysql', 10);
  return { db, app };
}

const functions = async (app: Dialect) => ((await app.knex.raw(
  "SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION'"))[0] as Array<{ n: string }>)
  .map((r) => r.n);

describe('uuid_generate_v7 that the migration did not leave (MariaDB)', () => {
  it('a user\'s own on a database d59cbbef95eb has not touched is no leftover: healthy, not dropped', async () => {
    const { app } = await airflowDb('omm_ident_own');
    await app.knex.raw('CREATE FUNCTION uuid_generate_v7() RETURNS CHAR(36) DETERMINISTIC RETURN UUID()');
    const state = await detectAirflowState(app);
    assert.equal(state.kind, 'healthy-before', state.summary);
    assert.equal(state.facts.uuidFunction, true);
    assert.equal(state.facts.leftoverFunction, false);
  });

  it('a half-applied database (step 1) beside a user\'s uuid_generate_v7 of another signature: the repair leaves the function', async () => {
    const { db, app } = await airflowDb('omm_ident_half');
    await runStandInMigration(db.appSpec, { stopAfter: 1 }).catch((e) => assert.ok(e instanceof SimulatedCrash, String(e)));
    await app.knex.raw('CREATE FUNCTION uuid_generate_v7() RETURNS CHAR(36) DETERMINISTIC RETURN UUID()');
    const state = await detectAirflowState(app);
    assert.equal(state.kind, 'half-applied');
    assert.equal(state.facts.leftoverFunction, false);
    const plan = planRepair(state, app.airflowRepair);
    assert.ok(!plan.actions.some((a) => a.id === 'drop-function'), plan.actions.map((a) => a.id).join(','));
    await runRepair(app, plan);
    assert.deepEqual(await functions(app), ['uuid_generate_v7']);
  });

  it('Airflow\'s own, left by a migrator killed after step 2, is proven a leftover and dropped', async () => {
    const { db, app } = await airflowDb('omm_ident_left');
    await runStandInMigration(db.appSpec, { stopAfter: 2 }).catch((e) => assert.ok(e instanceof SimulatedCrash, String(e)));
    const state = await detectAirflowState(app);
    assert.equal(state.facts.leftoverFunction, true);
    await runRepair(app, planRepair(state, app.airflowRepair));
    assert.deepEqual(await functions(app), []);
  });
});
