import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { PYTHON } from '../fixtures/airflow/python/pythonAirflow.js';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { airflowCases } from '../helpers/airflowCase.js';
import { startBinlogMariadb, type BinlogMariadb } from '../helpers/binlogMariadb.js';
import { SERVERS, createScratchDatabase } from '../helpers/servers.js';

/**
 * Issue 25, point 5: identity. A uuid_generate_v7 is dropped by the repair only when the migration's own state proves
 * d59cbbef95eb left it (MySQL: task_instance.id is there and the function has Airflow's signature; PostgreSQL: never,
 * its migration runs in one transaction). Anyone else's function stays, and preflight says Airflow's migration will
 * take it.
 */
const cases = airflowCases();
const airflowDb = (prefix: string) => cases.create(SERVERS.find((s) => s.engine === 'mysql')!, prefix);

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

/**
 * Which server the real driver reaches for a URL, asked of it under SQLAlchemy as Airflow's engine would connect (the
 * system python with Debian's python3-sqlalchemy, -mysqldb and -pymysql): its @@port, and its @@socket.
 */
function driverReaches(url: string, env: NodeJS.ProcessEnv = {}): { port: number; socket: string } {
  const script = `import json, sys, sqlalchemy as sa
e = sa.create_engine(sys.argv[1])
with e.connect() as c:
    port, socket = c.execute(sa.text("SELECT @@port, @@socket")).one()
print(json.dumps({"port": port, "socket": socket}))`;
  const r = spawnSync(PYTHON, ['-c', script, url], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  if (r.status !== 0) throw new Error(`the driver could not connect: ${r.stderr}`);
  return JSON.parse(r.stdout) as { port: number; socket: string };
}

/** The server om-migrate reaches with the spec it resolved from the same URL. */
async function omMigrateReaches(spec: ConnectionSpec): Promise<number> {
  const d = await connect(spec);
  try {
    return Number(((await d.knex.raw('SELECT @@port AS p'))[0] as Array<{ p: number }>)[0].p);
  } finally {
    await d.close();
  }
}

describe('MySQL URLs resolved as the driver resolves them (two servers on one machine)', () => {
  let other: BinlogMariadb;
  const shared = SERVERS.find((s) => s.engine === 'mysql')!;
  before(async () => { other = await startBinlogMariadb(); });
  after(async () => { await other?.stop(); });
  const url = (driver: string, spec: ConnectionSpec, hostPort: string, query = '') =>
    `mysql+${driver}://${encodeURIComponent(spec.user)}:${encodeURIComponent(spec.password ?? '')}@${hostPort}/${spec.database}${query}`;

  it('PyMySQL with a TCP host and ?unix_socket= goes through the socket: so does om-migrate', async () => {
    const db = await createScratchDatabase(other.server, 'omm_ident_pymysql');
    cases.cleanup(() => db.drop());
    const u = url('pymysql', db.appSpec, `127.0.0.1:${shared.admin.port}`, `?unix_socket=${encodeURIComponent(other.socket)}`);
    assert.equal(driverReaches(u).port, other.port, 'PyMySQL takes the socket whatever the host');
    const spec = resolveConfig({ airflowUrl: u }, {}).airflow!;
    assert.equal(spec.host, other.socket);
    assert.equal(await omMigrateReaches(spec), other.port);
  });

  it('mysqlclient with localhost and no ?unix_socket= uses the client library\'s default socket, whatever the port: so does om-migrate', async () => {
    const db = await createScratchDatabase(shared, 'omm_ident_mysqldb');
    cases.cleanup(() => db.drop());
    const u = url('mysqldb', db.appSpec, `localhost:${other.port}`);
    const reached = driverReaches(u);
    assert.equal(reached.port, shared.admin.port, 'libmariadb goes to its default socket, not to the port');
    const spec = resolveConfig({ airflowUrl: u }, {}).airflow!;
    assert.equal(spec.host, reached.socket);
    assert.equal(await omMigrateReaches(spec), shared.admin.port);
  });

  it('mysqlclient with localhost and MYSQL_UNIX_PORT set: that socket, for the driver and for om-migrate', async () => {
    const db = await createScratchDatabase(other.server, 'omm_ident_envsock');
    cases.cleanup(() => db.drop());
    const u = url('mysqldb', db.appSpec, 'localhost');
    assert.equal(driverReaches(u, { MYSQL_UNIX_PORT: other.socket }).port, other.port);
    const spec = resolveConfig({ airflowUrl: u }, { MYSQL_UNIX_PORT: other.socket }).airflow!;
    assert.equal(spec.host, other.socket);
    assert.equal(await omMigrateReaches(spec), other.port);
  });
});
