import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { createDistribution, DRIVER_DIRS, MAIN_CLASS, type Distribution } from '../fixtures/openmetadata/distribution.js';
import { compareVersions, releaseProfile, standInTableName, type Release } from '../fixtures/openmetadata/releases.js';
import { cleanEnv } from '../helpers/cli.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase } from '../helpers/servers.js';

/**
 * The OpenMetadata stand-in (fake distribution + operations main) against the real local servers: the contract
 * om-migrate will rely on, as read in OpenMetadata's sources (docs/facts/openmetadata.md).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Run { code: number | null; stdout: string; stderr: string }

function run(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `cd <home> && ./bootstrap/openmetadata-ops.sh <args>`: what quickstart's execute-migrate-all and Helm's initContainer run. */
function ops(dist: Distribution, args: string[], env: Record<string, string>): Promise<Run> {
  return run('./bootstrap/openmetadata-ops.sh', args, { cwd: dist.home, env });
}

/** OpenMetadata's own environment names for the server's database, and the session settings in DB_PARAMS. */
function serverEnv(spec: ConnectionSpec, search: { host: string; port: number }): Record<string, string> {
  const mysql = spec.engine === 'mysql';
  return {
    DB_DRIVER_CLASS: mysql ? 'com.mysql.cj.jdbc.Driver' : 'org.postgresql.Driver',
    DB_SCHEME: mysql ? 'mysql' : 'postgresql',
    DB_HOST: spec.host,
    DB_PORT: String(spec.port),
    DB_USER: spec.user,
    DB_USER_PASSWORD: spec.password ?? '',
    OM_DATABASE: spec.database,
    // Session-level sort memory through the driver's own URL parameter: no server global changes.
    DB_PARAMS: mysql
      ? 'allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC&sessionVariables=sort_buffer_size=33554432'
      : 'options=-c work_mem=32MB',
    ELASTICSEARCH_HOST: search.host,
    ELASTICSEARCH_PORT: String(search.port),
  };
}

interface ChangeLogRow { version: string; migrationFileName: string; checksum: string; metrics: unknown }

async function changeLog(s: ScratchDatabase): Promise<ChangeLogRow[]> {
  const result = await s.root.knex.raw('SELECT * FROM SERVER_CHANGE_LOG ORDER BY installed_rank');
  const rows = (s.server.engine === 'mysql' ? result[0] : result.rows) as Record<string, unknown>[];
  return rows.map((r) => ({
    version: String(r.version),
    migrationFileName: String(r.migrationFileName ?? r.migrationfilename),
    checksum: String(r.checksum),
    metrics: r.metrics,
  }));
}

async function rows(s: ScratchDatabase, sql: string): Promise<Record<string, unknown>[]> {
  const result = await s.root.knex.raw(sql);
  return (s.server.engine === 'mysql' ? result[0] : result.rows) as Record<string, unknown>[];
}

async function tableExists(s: ScratchDatabase, name: string): Promise<boolean> {
  const found = await rows(s, s.server.engine === 'mysql'
    ? `SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '${name}'`
    : `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '${name}'`);
  return found.length > 0;
}

async function dataMigrationRuns(s: ScratchDatabase): Promise<number> {
  if (!(await tableExists(s, 'om_standin_data_migration_runs'))) return 0;
  return Number((await rows(s, 'SELECT COUNT(*) AS n FROM om_standin_data_migration_runs'))[0].n);
}

/** A listening TCP port that stands for a reachable search service. */
async function listeningPort(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A port nothing listens on: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const { server, port } = await listeningPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function nativeAfter(release: Release, current: string | undefined): string[] {
  return releaseProfile(release).nativeFolders.filter((v) => current === undefined || compareVersions(v, current) > 0);
}

for (const server of SERVERS) {
  const engineDir = server.engine === 'mysql' ? 'mysql' : 'postgres';
  const driver = DRIVER_DIRS[server.engine];

  describe(`OpenMetadata ops stand-in on ${server.label}`, () => {
    const dists = new Map<Release, Distribution>();
    const scratches: ScratchDatabase[] = [];
    let search: { server: Server; port: number };
    const dist = (r: Release) => dists.get(r)!;
    const scratch = async () => {
      const s = await createScratchDatabase(server, 'omm_opsstandin');
      scratches.push(s);
      return s;
    };

    before(async () => {
      for (const r of ['1.9.5', '1.10.2', '1.10.5', '1.11.0', '1.11.4'] as const) dists.set(r, await createDistribution(r));
      search = await listeningPort();
    });
    after(async () => {
      for (const s of scratches) await s.drop();
      for (const d of dists.values()) await d.cleanup();
      await new Promise<void>((resolve) => search.server.close(() => resolve()));
    });
    const env = (s: ScratchDatabase, extra: Record<string, string> = {}) =>
      ({ ...serverEnv(s.appSpec, { host: '127.0.0.1', port: search.port }), ...extra });

    it('the ops script already passes -c: a second -c is picocli\'s usage error, exit 2, nothing touched', async () => {
      const s = await scratch();
      const r = await ops(dist('1.10.2'), ['-c', 'x', 'migrate'], env(s));
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^option '--config' \(<configFilePath>\) should be specified only once$/m);
      assert.match(r.stderr, /^Usage: OpenMetadataSetup \[-dhV\] -c=<configFilePath> \[COMMAND\]$/m);
      assert.equal(await tableExists(s, 'DATABASE_CHANGE_LOG'), false);

      const late = await ops(dist('1.10.2'), ['migrate', '-d'], env(s));
      assert.equal(late.code, 2, 'top-level options go before the subcommand');
      assert.match(late.stderr, /^Unknown option: '-d'$/m);
      const unknown = await ops(dist('1.10.2'), ['recover'], env(s));
      assert.equal(unknown.code, 2, 'recover does not exist before 1.11.4');
      assert.match(unknown.stderr, /^Unmatched argument at index 2: 'recover'$/m);
    });

    it('cd <home> && ./bootstrap/openmetadata-ops.sh migrate: 1.9.5 → 1.10.2 → 1.11.0 on one database, then nothing pending', async () => {
      const s = await scratch();

      // 1.9.5 on a fresh database: Flyway first (its own history table), then every native folder.
      const first = await ops(dist('1.9.5'), ['migrate'], env(s));
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const flyway = await rows(s, server.engine === 'mysql'
        ? 'SELECT version, script, success FROM DATABASE_CHANGE_LOG ORDER BY installed_rank'
        : 'SELECT version, script, success FROM "DATABASE_CHANGE_LOG" ORDER BY installed_rank');
      assert.deepEqual(flyway.map((r) => r.version), ['001', '002'], 'an empty schema gets no baseline row');
      let log = await changeLog(s);
      assert.deepEqual(log.map((r) => r.version), nativeAfter('1.9.5', undefined));
      for (const row of log) {
        assert.match(row.checksum, UUID);
        assert.equal(row.migrationFileName, `${dist('1.9.5').home}/./bootstrap/sql/migrations/native/${row.version}/${engineDir}`,
          'File#getAbsolutePath of the relative nativePath keeps the "./"');
        assert.ok(row.metrics !== null && row.metrics !== undefined);
        assert.ok(await tableExists(s, standInTableName(row.version)), `schema change of ${row.version}`);
      }

      // 1.10.2: only the folders above the highest recorded version (numeric order: 1.9.6 < 1.10.0).
      const second = await ops(dist('1.10.2'), ['migrate'], env(s));
      assert.equal(second.code, 0, second.stdout + second.stderr);
      log = await changeLog(s);
      const added102 = log.slice(nativeAfter('1.9.5', undefined).length).map((r) => r.version);
      assert.deepEqual(added102, nativeAfter('1.10.2', '1.9.5'));
      assert.ok(added102.includes('1.10.2') && !added102.includes('1.9.5'));

      // 1.11.0: the Flyway history is copied as 0.0.N (checksum '0'), the table dropped, then the native folders.
      const third = await ops(dist('1.11.0'), ['migrate'], env(s));
      assert.equal(third.code, 0, third.stdout + third.stderr);
      assert.equal(await tableExists(s, 'DATABASE_CHANGE_LOG'), false, 'DATABASE_CHANGE_LOG is dropped');
      log = await changeLog(s);
      const byVersion = new Map(log.map((r) => [r.version, r]));
      for (const [version, script] of [['0.0.0', 'v000__create_server_change_log.sql'], ['0.0.1', 'v001__om_standin_base.sql'],
        ['0.0.2', 'v002__om_standin_more.sql']]) {
        assert.equal(byVersion.get(version)?.checksum, '0', `${version} copied with checksum '0'`);
        assert.equal(byVersion.get(version)?.migrationFileName, `bootstrap/sql/migrations/flyway/${driver}/${script}`);
      }
      const native = log.filter((r) => !r.version.startsWith('0.0.')).map((r) => r.version);
      assert.deepEqual(native.slice(-nativeAfter('1.11.0', '1.10.2').length), nativeAfter('1.11.0', '1.10.2'));
      const logged = await rows(s, "SELECT COUNT(*) AS n FROM SERVER_MIGRATION_SQL_LOGS WHERE version LIKE '0.0.%'");
      assert.ok(Number(logged[0].n) > 0, 'the Flyway statements are pre-logged so that they never run again');

      // Nothing pending: migrate does nothing and exits 0.
      const before = await changeLog(s);
      const runsBefore = await dataMigrationRuns(s);
      const again = await ops(dist('1.11.0'), ['migrate'], env(s));
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /No Server Migration To be Run/);
      assert.deepEqual(await changeLog(s), before, 'SERVER_CHANGE_LOG unchanged');
      assert.equal(await dataMigrationRuns(s), runsBefore, 'no data migration ran');

      const validate = await ops(dist('1.11.0'), ['validate'], env(s));
      assert.equal(validate.code, 0, validate.stdout);
      const pending = await ops(dist('1.11.4'), ['validate'], env(s));
      assert.equal(pending.code, 1);
      assert.match(pending.stdout, /There are pending migrations to be run on the database/);
      const info = await ops(dist('1.11.0'), ['info'], env(s));
      assert.equal(info.code, 0);
      assert.match(info.stdout, /Native System Data Migrations:/);
      assert.match(info.stdout, /\| 1\.10\.2 /);
    });

    it('an unreachable search service after the database: warnings and exit 0 as in the sources; exit 1 with OM_STANDIN_SEARCH_FAILURE=fatal', async () => {
      const closed = await closedPort();
      const s = await scratch();
      const quiet = await ops(dist('1.10.2'), ['migrate'], { ...env(s), ELASTICSEARCH_PORT: String(closed) });
      assert.equal(quiet.code, 0, quiet.stdout + quiet.stderr);
      assert.match(quiet.stdout, /WARN .* - Failed to Update Index for entity table_search_index/);
      assert.deepEqual((await changeLog(s)).map((r) => r.version), nativeAfter('1.10.2', undefined));

      const fatal = await ops(dist('1.11.0'), ['migrate'], { ...env(s), ELASTICSEARCH_PORT: String(closed), OM_STANDIN_SEARCH_FAILURE: 'fatal' });
      assert.equal(fatal.code, 1, fatal.stdout + fatal.stderr);
      assert.match(fatal.stdout, /ERROR .* - Failed to db migration due to java\.net\.ConnectException/);
      const versions = (await changeLog(s)).map((r) => r.version);
      assert.ok(versions.includes('1.11.0'), 'the database is migrated although the command failed');
    });

    it('a failed step stops before its row; a re-run resumes; --force re-runs everything and swallows failures', async () => {
      const s = await scratch();
      assert.equal((await ops(dist('1.10.2'), ['migrate'], env(s))).code, 0);

      const failed = await ops(dist('1.11.0'), ['migrate'], env(s, { OM_STANDIN_FAIL_AT: '1.10.4' }));
      assert.equal(failed.code, 1, failed.stdout);
      assert.match(failed.stdout, /Failed to db migration due to java\.lang\.RuntimeException: data migration of 1\.10\.4 failed/);
      let versions = (await changeLog(s)).map((r) => r.version);
      assert.ok(versions.includes('1.10.3') && !versions.includes('1.10.4'), 'versions before the failure stay recorded');
      assert.ok(await tableExists(s, standInTableName('1.10.4')), 'its schema change was made (DDL is not rolled back)');

      const resumed = await ops(dist('1.11.0'), ['migrate'], env(s));
      assert.equal(resumed.code, 0, resumed.stdout);
      versions = (await changeLog(s)).map((r) => r.version);
      assert.ok(versions.includes('1.10.4') && versions.includes('1.11.0'));

      const before = new Map((await changeLog(s)).map((r) => [r.version, r.checksum]));
      const runsBefore = await dataMigrationRuns(s);
      const forced = await ops(dist('1.11.0'), ['migrate', '--force'], env(s, { OM_STANDIN_FAIL_AT: '1.9.0' }));
      assert.equal(forced.code, 0, forced.stdout);
      assert.match(forced.stdout, /Failed due to : java\.lang\.RuntimeException: data migration of 1\.9\.0 failed/);
      const after = await changeLog(s);
      for (const row of after) {
        assert.notEqual(row.checksum, before.get(row.version), `${row.version} rewritten by --force`);
        assert.match(row.checksum, UUID, 'also the copied 0.0.N rows lose their checksum 0');
      }
      const available = releaseProfile('1.11.0').nativeFolders.length + 3;
      assert.equal(await dataMigrationRuns(s) - runsBefore, available, 'every data migration ran again');
    });

    it('the direct call: java -cp <home>/libs/* …OpenMetadataOperations -c <operator config> migrate, from <home>', async () => {
      const s = await scratch();
      const d = dist('1.11.4');
      const elsewhere = await mkdtemp(join(tmpdir(), 'om-standin-conf-'));
      try {
        const config = join(elsewhere, 'operator.yaml');
        await copyFile(d.configFile, config);
        const args = [`-Dbootstrap.dir=${d.home}/bootstrap`, '-cp', `${d.libsDir}/*`, MAIN_CLASS, '-c', config, 'migrate'];
        const direct = await run(d.javaShim, args, { cwd: d.home, env: env(s) });
        assert.equal(direct.code, 0, direct.stdout + direct.stderr);
        const log = await changeLog(s);
        assert.ok(log.some((r) => r.version === '0.0.0' && r.migrationFileName.endsWith(`/./bootstrap/sql/migrations/flyway/${driver}/v000__create_server_change_log.sql`)),
          'from 1.11 a fresh database runs the Flyway files as 0.0.N migrations');
        assert.ok(log.some((r) => r.version === '1.11.4'));

        const wrongCwd = await run(d.javaShim, args, { cwd: elsewhere, env: env(s) });
        assert.equal(wrongCwd.code, 1, 'the migration paths in the config are relative to the working directory');
        assert.match(wrongCwd.stdout, /Failed to db migration due to java\.lang\.NullPointerException/);

        const noClass = await run(d.javaShim, ['-cp', elsewhere, MAIN_CLASS, '-c', config, 'migrate'], { cwd: d.home, env: env(s) });
        assert.equal(noClass.code, 1);
        assert.match(noClass.stderr, /Error: Could not find or load main class org\.openmetadata\.service\.util\.OpenMetadataOperations/);

        const noConfig = await run(d.javaShim, ['-cp', `${d.libsDir}/*`, MAIN_CLASS, 'migrate'], { cwd: d.home, env: env(s) });
        assert.equal(noConfig.code, 2);
        assert.match(noConfig.stderr, /^Missing required option: '--config=<configFilePath>'$/m);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });

    it('MySQL 8\'s "Out of sort memory" emulation: below 20 MB of session sort memory migrate fails with exit 1', async () => {
      const s = await scratch();
      const small = { ...env(s), DB_PARAMS: server.engine === 'mysql' ? 'sessionVariables=sort_buffer_size=1048576' : 'options=-c work_mem=4MB' };
      const r = await ops(dist('1.10.5'), ['migrate'], small);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /Out of sort memory, consider increasing server sort buffer size/);
      const skipped = await ops(dist('1.10.5'), ['migrate'], { ...small, OM_STANDIN_SKIP_SORT_CHECK: '1' });
      assert.equal(skipped.code, 0, skipped.stdout);
      const check = await ops(dist('1.10.5'), ['check-connection'], env(s));
      assert.equal(check.code, 0, check.stdout);
      const denied = await ops(dist('1.10.5'), ['check-connection'], { ...env(s), OM_DATABASE: `${s.name}_missing` });
      assert.equal(denied.code, 1);
      assert.match(denied.stdout, /Failed to check connection due to/);
    });
  });
}
