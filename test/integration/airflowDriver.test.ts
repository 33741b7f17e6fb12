import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import type { Finding } from '../../src/core/Gate.js';
import { connect } from '../../src/dialects/connect.js';
import { PYTHON, sqlAlchemyUrl, standInCommandLine } from '../fixtures/airflow/python/pythonAirflow.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';
import { airflowCases, airflowEnv, backupsOf, type AirflowCase } from '../helpers/airflowCase.js';
import { startBinlogMariadb, type BinlogMariadb } from '../helpers/binlogMariadb.js';
import { runCli } from '../helpers/cli.js';
import { SERVERS } from '../helpers/servers.js';

/**
 * Issue 25, point 2: whether Airflow's MySQL driver runs multi-statements is asked of the driver, in the migrator's own
 * interpreter and environment, not read from the URL. Debian's python3-mysqldb 1.4.6 (MariaDB Connector/C reports
 * 3.3, below the 4.1 it asks for) sends no multi-statement flag: d59cbbef95eb's DROP/CREATE FUNCTION pair then fails
 * with 1064 after step 1, and before this every `up` backed up, repaired, failed and said "run up again". The stand-in
 * runs Debian's 1.4.6 as shipped ('debian-1.4.6') or with mysqlclient 2.x's behaviour (its mysqlclient2/sitecustomize).
 */
const cases = airflowCases();
const mariadb = SERVERS.find((s) => s.engine === 'mysql')!;
const healthyAirflow = () => cases.create(mariadb, 'omm_driver');

const driverFindings = (stdout: string): Finding[] => (JSON.parse(stdout).result.findings as Finding[]).filter((f) => f.gate === 'airflow-driver');
const revision = async (c: AirflowCase) => ((await c.app.knex.raw('SELECT version_num AS v FROM alembic_version'))[0] as Array<{ v: string }>)[0].v;

describe('Airflow\'s MySQL driver, asked as Airflow connects (MariaDB)', () => {
  it('Debian\'s mysqlclient 1.4.6 as shipped: preflight and up block before anything changes, naming the driver and the fix', async () => {
    const c = await healthyAirflow();
    const pre = await runCli(['preflight', '--json'], { env: airflowEnv(c, { mysqlclient: 'debian-1.4.6' }) });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const [f] = driverFindings(pre.stdout).filter((x) => x.severity === 'block');
    assert.ok(f, pre.stdout);
    assert.match(f.summary, new RegExp(`no multi-statements \\(mysqldb 1\\.4\\.6, client library 3\\.\\d+\\.\\d+, as ${PYTHON} connects`));
    assert.match(f.summary, /1064/);
    assert.match(f.fix ?? '', /client_flag=196608/);
    const up = await runCli(['up', '--json'], { env: airflowEnv(c, { mysqlclient: 'debian-1.4.6' }) });
    assert.equal(up.code, 4, up.stdout + up.stderr);
    assert.deepEqual(backupsOf(c), [], 'no backup: nothing was started');
    assert.equal((await detectAirflowState(c.app)).kind, 'healthy-before');
  });

  it('the same driver with ?client_flag=196608 in the URL runs them: up migrates to the head', async () => {
    const c = await healthyAirflow();
    const url = sqlAlchemyUrl({ ...c.db.appSpec, password: c.db.appSpec.password ?? undefined }, 'mysqldb', 'client_flag=196608');
    const up = await runCli(['up', '--json'], { env: airflowEnv(c, { mysqlclient: 'debian-1.4.6', url }) });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.equal(await revision(c), AIRFLOW_HEAD);
    const ok = (JSON.parse(up.stdout).result.warnings as Finding[]).filter((w) => w.gate === 'airflow-driver');
    assert.deepEqual(ok, []);
  });

  it('mysqlclient 2.x\'s behaviour (Airflow\'s driver): ok, asked of the driver', async () => {
    const c = await healthyAirflow();
    const pre = await runCli(['preflight', '--json'], { env: airflowEnv(c) });
    const [f] = driverFindings(pre.stdout);
    assert.equal(f.severity, 'ok', JSON.stringify(f));
    assert.match(f.summary, /runs multi-statements \(mysqldb 1\.4\.6/);
    assert.equal(f.data?.asked, true);
  });

  it('a migrator om-migrate cannot ask (shell syntax) that fails with 1064: exit 8, and the hint is the fix, never "run up again"', async () => {
    const c = await healthyAirflow();
    const command = `true && ${standInCommandLine(['db', 'migrate'], 'debian-1.4.6')}`;
    const pre = await runCli(['preflight', '--json'], { env: airflowEnv(c, { mysqlclient: 'debian-1.4.6', command }) });
    const [f] = driverFindings(pre.stdout);
    assert.equal(f.severity, 'warn', JSON.stringify(f));
    assert.match(f.summary, /not asked: the migrator command is shell syntax/);
    const up = await runCli(['up', '--json'], { env: airflowEnv(c, { mysqlclient: 'debian-1.4.6', command }) });
    assert.equal(up.code, 8, up.stdout + up.stderr);
    const error = JSON.parse(up.stdout).error;
    assert.doesNotMatch(error.hint, /run om-migrate up again/);
    assert.match(error.hint, /fails the same way.*client_flag=196608/);
  });
});

describe('Airflow\'s driver reaching another server than om-migrate (MariaDB, two servers)', () => {
  let other: BinlogMariadb;
  before(async () => { other = await startBinlogMariadb(); });
  after(async () => { await other?.stop(); });

  it('the migrator\'s own MYSQL_UNIX_PORT sends mysqlclient elsewhere: preflight blocks, naming both servers', async () => {
    const c = await healthyAirflow();
    // The same database and user on the other server, so that the driver connects there without a complaint.
    const twin = await connect(other.server.admin);
    cases.cleanup(() => twin.close());
    const { user, password, database } = c.db.appSpec as ConnectionSpec;
    await twin.knex.raw(`CREATE DATABASE \`${database}\``);
    cases.cleanup(async () => { await twin.knex.raw(`DROP DATABASE IF EXISTS \`${database}\``); await twin.knex.raw(`DROP USER IF EXISTS '${user}'@'localhost'`); });
    await twin.knex.raw(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'`);
    await twin.knex.raw(`GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost'`);
    const url = `mysql+mysqldb://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@localhost/${database}`;
    const command = `env MYSQL_UNIX_PORT=${other.socket} ${standInCommandLine(['db', 'migrate'])}`;
    const pre = await runCli(['preflight', '--json'], { env: airflowEnv(c, { url, command }) });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const blocks = driverFindings(pre.stdout).filter((f) => f.severity === 'block');
    assert.equal(blocks.length, 1, pre.stdout);
    assert.match(blocks[0].summary, new RegExp(`reaches mysql://[^ ]+:${other.port}#\\d+, but om-migrate checked and would back up mysql://[^ ]+:${mariadb.admin.port}#`));
  });
});
