import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { adminUrl, type UpScenario } from '../../fixtures/upScenario.js';
import { startBinlogMariadb, type BinlogMariadb } from '../../helpers/binlogMariadb.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../helpers/embeddedPostgres.js';
import type { TestServer } from '../../helpers/servers.js';
import {
  assertParametersAsBefore, backupFiles, ledgerRows, omVersion, parameterSnapshot, runCli, upTestServers,
} from '../../helpers/upHarness.js';

/**
 * An admin URL that reaches another server than the databases (a copy-pasted secret, a DNS name that moved) would
 * change that server's globals while the migration runs without them; one for the other engine would be ignored. Both
 * must block before anything is touched, naming the two servers. The "other" servers are throw-away ones, so that a
 * regression changes nothing on the shared servers.
 */
const { engines, scenario } = upTestServers();
let otherMariadb: BinlogMariadb | undefined;
let otherPostgres: EmbeddedPostgres | undefined;
before(async () => {
  otherMariadb = await startBinlogMariadb();
  otherPostgres = await startEmbeddedPostgres(16);
});
after(async () => {
  await otherMariadb?.stop();
  await otherPostgres?.stop();
});

/** Every value om-migrate could change on a server, read through its superuser. */
async function serverState(server: TestServer): Promise<unknown> {
  const admin = await connect(server.admin);
  try {
    if (server.engine === 'mysql') {
      const [rows] = await admin.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS s, @@GLOBAL.log_bin_trust_function_creators AS t');
      const [schemas] = await admin.knex.raw("SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'om%migrate%'");
      return { globals: rows, schemas };
    }
    const settings = await admin.knex.raw('SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting ORDER BY 1, 2');
    const system = await admin.knex.raw("SELECT setting FROM pg_file_settings WHERE name = 'work_mem'");
    const schemas = await admin.knex.raw("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'om%migrate%'");
    return { settings: settings.rows, system: system.rows, schemas: schemas.rows };
  } finally {
    await admin.close();
  }
}

async function assertNothingChanged(sc: UpScenario, params: Record<string, unknown>): Promise<void> {
  assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
  assert.deepEqual(backupFiles(sc), [], 'no backup');
  await assertParametersAsBefore(sc, params);
  assert.equal(await omVersion(sc), '1.10.2');
}

for (const engine of engines) {
  describe(`admin URL for another server: ${engine.label}`, () => {
    it('same engine, another server: up and preflight block (exit 4) naming both servers; neither server is changed', async () => {
      const sc = await scenario(engine.server());
      const other = sc.server.engine === 'mysql' ? otherMariadb!.server : otherPostgres!.server;
      const params = await parameterSnapshot(sc);
      const otherBefore = await serverState(other);
      const wrong = { OM_MIGRATE_ADMIN_URL: adminUrl(other.admin) };

      const up = await runCli(sc, ['up', '--json'], wrong);
      assert.equal(up.code, 4, up.stdout + up.stderr);
      assert.equal(up.json.error.code, 'BLOCKED');
      const message = up.json.error.message as string;
      assert.match(message, /reaches another server than the openmetadata database/);
      assert.match(message, new RegExp(`127\\.0\\.0\\.1:${other.admin.port}.* is ${sc.server.engine === 'mysql' ? 'mysql' : 'postgres'}://`), message);
      assert.match(message, new RegExp(`127\\.0\\.0\\.1:${sc.server.admin.port}/${sc.om.name} is `), message);
      const identities = [...message.matchAll(/ is ((?:mysql|postgres):\/\/\S+?)[,;]/g)].map((m) => m[1]);
      assert.equal(identities.length, 2, `both servers' identities: ${message}`);
      assert.notEqual(identities[0], identities[1]);
      assert.doesNotMatch(up.stdout + up.stderr, /binlog-root-pw/, 'the admin password is not printed');

      const text = await runCli(sc, ['up'], wrong);
      assert.equal(text.code, 4);
      assert.match(text.stderr, /fix: Point OM_MIGRATE_ADMIN_URL at the server that holds/);

      const revert = await runCli(sc, ['revert-params'], wrong);
      assert.notEqual(revert.code, 0, 'revert-params will not use it either');

      await assertNothingChanged(sc, params);
      assert.deepEqual(await serverState(other), otherBefore, 'the other server was not touched');
    });

    it('the other engine: blocks (exit 4) naming both engines; nothing changed', async () => {
      const sc = await scenario(engine.server());
      const other = sc.server.engine === 'mysql' ? otherPostgres!.server : otherMariadb!.server;
      const params = await parameterSnapshot(sc);
      const otherBefore = await serverState(other);
      const up = await runCli(sc, ['up', '--json'], { OM_MIGRATE_ADMIN_URL: adminUrl(other.admin) });
      assert.equal(up.code, 4, up.stdout + up.stderr);
      assert.equal(up.json.error.code, 'BLOCKED');
      assert.match(up.json.error.message, sc.server.engine === 'mysql'
        ? /OM_MIGRATE_ADMIN_URL is a PostgreSQL URL, but the openmetadata database is MySQL\/MariaDB/
        : /OM_MIGRATE_ADMIN_URL is a MySQL\/MariaDB URL, but the openmetadata database is PostgreSQL/);
      await assertNothingChanged(sc, params);
      assert.deepEqual(await serverState(other), otherBefore);
    });
  });
}
