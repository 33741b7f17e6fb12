import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import { runPreflight } from '../../src/api/preflight.js';
import { binlogOn, BinlogMariadb, startBinlogMariadb } from '../helpers/binlogMariadb.js';
import { cleanEnv, specUrl } from '../helpers/cli.js';
import { createScratchDatabase, ScratchDatabase } from '../helpers/servers.js';

const BACKUP_DIR = join(tmpdir(), 'omm-logbin-test-backups');

/**
 * The managed-database situation for real: a MariaDB with binary logging, where an ordinary user may neither create a
 * function (1419) nor SET GLOBAL — what Airflow's d59cbbef95eb runs into (docs/facts/parameters.md).
 */
describe('log_bin_trust_function_creators on a MariaDB with binary logging', () => {
  let binlog: BinlogMariadb;
  let db: ScratchDatabase;
  let adminUrl: string;
  before(async () => {
    binlog = await startBinlogMariadb();
    db = await createScratchDatabase(binlog.server, 'omm_lb');
    adminUrl = specUrl({ ...binlog.server.admin, database: '' });
  });
  after(async () => {
    await db?.drop();
    await binlog?.stop();
  });

  const trust = async () => Number((await db.root.knex.raw('SELECT @@GLOBAL.log_bin_trust_function_creators AS v'))[0][0].v);
  const airflowOnly = (extra: { adminUrl?: string } = {}) =>
    resolveConfig({ airflowUrl: specUrl(db.appSpec, 'mysql+mysqldb'), backupDir: BACKUP_DIR, ...extra }, cleanEnv());

  it('the server really has binary logging on and trust off, and the app user really gets 1419/1418', async () => {
    assert.equal(await binlogOn(db.appSpec), true);
    assert.equal(await trust(), 0);
    const app = await connect(db.appSpec);
    try {
      await assert.rejects(app.knex.raw('CREATE FUNCTION omm_probe() RETURNS INT DETERMINISTIC RETURN 1'),
        (e: { errno?: number }) => e.errno === 1419 || e.errno === 1418);
    } finally {
      await app.close();
    }
  });

  it('blocks a non-SUPER Airflow user when no admin URL can enable it', async () => {
    const report = await runPreflight(airflowOnly());
    const f = report.findings.filter((x) => x.gate === 'log-bin-trust');
    assert.equal(f.length, 1);
    assert.equal(f[0].target, 'airflow');
    assert.equal(f[0].severity, 'block');
    assert.match(f[0].summary, /binary logging is on, log_bin_trust_function_creators is 0 and .* lacks SUPER: Airflow migration d59cbbef95eb would fail with error 1419/);
    assert.match(f[0].fix ?? '', /--admin-url/);
    assert.match(f[0].fix ?? '', /parameter group/);
    // A switch, not a size: "to 1", never "to at least 1 bytes" (issue 25).
    assert.match(f[0].fix ?? '', /set log_bin_trust_function_creators to 1 in /);
    assert.doesNotMatch(f[0].fix ?? '', /bytes|at least/);
    assert.equal(report.blocked, true);
  });

  it('warns "will be set to 1" with the binlog server\'s root as --admin-url, and changes nothing', async () => {
    const report = await runPreflight(airflowOnly({ adminUrl }));
    const f = report.findings.find((x) => x.gate === 'log-bin-trust');
    assert.equal(f?.severity, 'warn');
    assert.match(f?.summary ?? '', /will be set to 1 for Airflow migration d59cbbef95eb and put back after/);
    assert.equal(await trust(), 0, 'preflight is read-only');
  });

  it('--dry-run plans the change with its revert', async () => {
    const report = await runPreflight(airflowOnly({ adminUrl }), { dryRun: true });
    const change = report.plan?.parameterChanges.find((c) => c.gate === 'log-bin-trust');
    assert.deepEqual(change?.sql, ['SET GLOBAL log_bin_trust_function_creators = 1']);
    assert.deepEqual(change?.revertSql, ['SET GLOBAL log_bin_trust_function_creators = 0']);
    assert.equal(await trust(), 0);
  });

  it('an OpenMetadata-only run to 1.11 checks the same server (Airflow 3 comes with it)', async () => {
    const config = resolveConfig({ dbHost: db.appSpec.host, dbPort: String(db.appSpec.port), dbUser: db.appSpec.user,
      database: db.name, to: '1.11.0', backupDir: BACKUP_DIR }, cleanEnv({ DB_USER_PASSWORD: db.appSpec.password! }));
    const f = (await runPreflight(config)).findings.find((x) => x.gate === 'log-bin-trust');
    assert.equal(f?.severity, 'block');
    assert.match(f?.summary ?? '', /Airflow 3 migration of OpenMetadata 1\.11\.0/);
    const to110 = await runPreflight({ ...config, targetVersion: '1.10.2' });
    assert.equal(to110.findings.filter((x) => x.gate === 'log-bin-trust').length, 0, 'no Airflow 3 before 1.11');
  });

  it('does not apply once Airflow is past d59cbbef95eb', async () => {
    await db.root.knex.raw('CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)');
    await db.root.knex.raw("INSERT INTO alembic_version VALUES ('cc92b33c6709')");
    try {
      const report = await runPreflight(airflowOnly());
      assert.equal(report.findings.filter((x) => x.gate === 'log-bin-trust').length, 0);
      assert.match(report.findings.find((x) => x.gate === 'versions')?.summary ?? '', /cc92b33c6709 \(head of Airflow 3\.1\.0–3\.1\.7/);
    } finally {
      await db.root.knex.raw('DROP TABLE alembic_version');
    }
  });
});
