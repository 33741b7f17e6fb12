import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { ConfigInput, resolveConfig, RunConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import type { Finding } from '../../src/core/Gate.js';
import { runLockName } from '../../src/lock/lockName.js';
import { runPreflight, PreflightReport } from '../../src/api/preflight.js';
import { createPipelineTables, insertPipelineRuns } from '../fixtures/openmetadata/pipelineStatus.js';
import { createServerChangeLog, insertVersions, TRICKY_VERSIONS } from '../fixtures/openmetadata/serverChangeLog.js';
import { cleanEnv, specUrl } from '../helpers/cli.js';
import { createDistribution, type Distribution } from '../fixtures/openmetadata/distribution.js';
import { freePort } from '../helpers/binlogMariadb.js';
import { createScratchDatabase, ScratchDatabase, SERVERS, uniqueName } from '../helpers/servers.js';

const BACKUP_DIR = join(tmpdir(), 'omm-preflight-test-backups');
const HOUR = 3_600_000;

/**
 * The run configuration a user would get from flags for `spec`, the password given through DB_USER_PASSWORD, in this
 * process's environment without its configuring variables (the tools are found on its PATH).
 */
export function configFor(spec: ConnectionSpec, input: ConfigInput = {}): RunConfig {
  return resolveConfig({
    dbScheme: spec.engine === 'mysql' ? 'mysql' : 'postgresql', dbHost: spec.host, dbPort: String(spec.port), dbUser: spec.user,
    database: spec.database, backupDir: BACKUP_DIR, ...input,
  }, cleanEnv(spec.password === undefined ? {} : { DB_USER_PASSWORD: spec.password }));
}

function only(report: PreflightReport, gate: string, target: Finding['target'] = 'openmetadata'): Finding {
  const found = report.findings.filter((f) => f.gate === gate && f.target === target);
  assert.equal(found.length, 1, `one ${gate} finding for ${target}: ${JSON.stringify(report.findings, null, 1)}`);
  return found[0];
}

function all(report: PreflightReport, gate: string): Finding[] {
  return report.findings.filter((f) => f.gate === gate);
}

for (const server of SERVERS) {
  describe(`preflight on ${server.label}`, () => {
    let db: ScratchDatabase;
    /** Fixtures are created by the application user, who owns OpenMetadata's tables in a real install. */
    let app: Dialect;
    before(async () => {
      db = await createScratchDatabase(server, 'omm_pf');
      app = await connect(db.appSpec);
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    describe('versions', () => {
      /** The OpenMetadata 1.11.0 distribution the migrator comes from (the stand-in's, laid out as the real one). */
      let dist: Distribution;
      before(async () => {
        dist = await createDistribution('1.11.0');
      });
      after(async () => {
        await dist?.cleanup();
      });
      const withDist = (input: ConfigInput = {}) => configFor(db.appSpec, { omHome: dist.home, ...input });
      /** The one line that says where the database is, where it goes, and what is pending. */
      const head = (report: PreflightReport) => {
        const found = all(report, 'versions').filter((f) => f.target === 'openmetadata' && f.data?.pending !== undefined && f.severity === 'ok');
        assert.equal(found.length, 1, JSON.stringify(all(report, 'versions'), null, 1));
        return found[0];
      };

      it('a database without SERVER_CHANGE_LOG is a fresh install: every folder of the distribution is pending', async () => {
        const report = await runPreflight(withDist());
        const v = head(report);
        assert.match(v.summary, /fresh install \(no SERVER_CHANGE_LOG table\) → 1\.11\.0: \d+ version\(s\) pending/);
        assert.equal(v.data?.current, null);
        assert.equal(v.data?.target, '1.11.0', '--to defaults to what the distribution carries');
        assert.equal((v.data?.pending as string[]).at(-1), '1.11.0');
      });

      it('an empty SERVER_CHANGE_LOG is a fresh install too', async () => {
        await createServerChangeLog(app);
        const report = await runPreflight(withDist());
        assert.match(head(report).summary, /fresh install \(SERVER_CHANGE_LOG is empty\)/);
      });

      it('reads 1.10.2 from the tricky mix, not the 1.9.5 a string MAX() would give; pending are the folders above it', async () => {
        await insertVersions(app, TRICKY_VERSIONS);
        const report = await runPreflight(withDist());
        const v = head(report);
        assert.equal(v.data?.current, '1.10.2');
        assert.match(v.summary, /OpenMetadata 1\.10\.2 → 1\.11\.0/);
        assert.ok((v.data?.pending as string[]).every((folder) => /^1\.1[01]\./.test(folder) && folder !== '1.10.2'), JSON.stringify(v.data?.pending));
      });

      it('blocks a --to below the current version as a downgrade', async () => {
        const report = await runPreflight(withDist({ to: '1.9.5' }));
        const block = all(report, 'versions').find((f) => f.severity === 'block');
        assert.match(block?.summary ?? '', /1\.9\.5 is lower than the database's 1\.10\.2: a downgrade/);
        assert.match(block?.fix ?? '', /restore/);
        assert.equal(report.blocked, true);
      });

      it('blocks a --to the installed distribution cannot reach, naming what it can', async () => {
        const report = await runPreflight(withDist({ to: '99.0.0' }));
        const block = all(report, 'versions').find((f) => f.severity === 'block');
        assert.match(block?.summary ?? '', /--to 99\.0\.0 is beyond what the distribution at .* can migrate to \(1\.11\.0\)/);
        assert.equal(report.blocked, true);
      });

      it('blocks a --to at the current version when the distribution carries more: its migrator would migrate anyway (issue 21)', async () => {
        const report = await runPreflight(withDist({ to: '1.10.2' }));
        const block = all(report, 'versions').find((f) => f.severity === 'block');
        assert.match(block?.summary ?? '', /--to 1\.10\.2 is below what the distribution at .* migrates to \(1\.11\.0\)/);
        assert.match(head(report).summary, /→ 1\.11\.0: \d+ version\(s\) pending/, 'what is pending comes from the distribution');
        assert.equal(report.blocked, true);
      });

      it('without a distribution, preflight warns that it cannot read what is pending (up would block)', async () => {
        const report = await runPreflight(configFor(db.appSpec, { omHome: join(BACKUP_DIR, 'no-such-home') }));
        const warn = all(report, 'versions').find((f) => f.severity === 'warn' && /no OpenMetadata distribution/.test(f.summary));
        assert.ok(warn, JSON.stringify(all(report, 'versions')));
        assert.match(warn.fix ?? '', /--om-home/);
      });

      it('1.9.5 → 1.11.0 crosses only 1.11.0\'s notes; Airflow\'s only with an Airflow database', async () => {
        await app.knex.raw(db.server.engine === 'mysql' ? 'DELETE FROM SERVER_CHANGE_LOG' : 'DELETE FROM server_change_log');
        await insertVersions(app, ['1.9.0', '1.9.5']);
        const report = await runPreflight(withDist({ to: '1.11.0' }));
        assert.match(head(report).summary, /1\.9\.5 → 1\.11\.0/);
        const notes = all(report, 'versions').filter((f) => f.data?.note);
        assert.ok(notes.length > 0);
        assert.deepEqual([...new Set(notes.map((n) => n.data?.version))], ['1.11.0']);
        assert.ok(notes.every((n) => n.target === 'openmetadata'), 'no Airflow note without an Airflow database');
        for (const n of notes.filter((x) => x.severity === 'warn')) assert.ok(n.fix && !/^fix/i.test(n.fix), `${n.data?.note} says what to do`);
        const withAirflow = await runPreflight(withDist({ to: '1.11.0', airflowUrl: specUrl(db.appSpec, db.server.engine === 'mysql' ? 'mysql+mysqldb' : 'postgresql+psycopg2') }));
        assert.ok(all(withAirflow, 'versions').some((f) => f.data?.note && f.target === 'airflow'), 'Airflow 3\'s note once Airflow is configured');
      });

      it('1.5 → 1.11 crosses the notes of 1.6.0 … 1.11.0, in order', async () => {
        await app.knex.raw(db.server.engine === 'mysql' ? 'DELETE FROM SERVER_CHANGE_LOG' : 'DELETE FROM server_change_log');
        await insertVersions(app, ['1.1.0-extension', '1.5.0', '1.5.11']);
        const report = await runPreflight(withDist({ to: '1.11' }));
        const versions = [...new Set(all(report, 'versions').filter((f) => f.data?.note).map((n) => n.data?.version))];
        assert.deepEqual(versions, ['1.6.0', '1.6.2', '1.7.0', '1.9.0', '1.11.0']);
      });

      it('the 1.6.4 note checks the Airflow URL\'s driver', async () => {
        const driverNote = (r: PreflightReport) => all(r, 'versions').find((f) => f.data?.check === 'airflow-mysql-driver');
        if (server.engine === 'mysql') {
          const pymysql = await runPreflight(withDist({ to: '1.11.0', airflowUrl: specUrl(db.appSpec, 'mysql+pymysql') }));
          const warn = driverNote(pymysql);
          assert.equal(warn?.severity, 'warn');
          assert.equal(warn?.target, 'airflow');
          assert.match(warn?.summary ?? '', /mysql\+pymysql/);
          assert.match(warn?.fix ?? '', /DB_SCHEME=mysql\+mysqldb/);
          const mysqldb = await runPreflight(withDist({ to: '1.11.0', airflowUrl: specUrl(db.appSpec, 'mysql+mysqldb') }));
          assert.equal(driverNote(mysqldb)?.severity, 'ok');
          assert.match(driverNote(mysqldb)?.summary ?? '', /mysqldb/);
        } else {
          const report = await runPreflight(withDist({ to: '1.11.0', airflowUrl: specUrl(db.appSpec, 'postgresql+psycopg2') }));
          assert.equal(driverNote(report)?.severity, 'ok', 'a PostgreSQL URL has no MySQL driver to get wrong');
        }
      });
    });

    describe('stale pipeline runs', () => {
      before(async () => {
        await createPipelineTables(app);
      });

      it('warns with the count and the names of runs "running" for longer than --stale-after', async () => {
        await insertPipelineRuns(app, [
          { fqn: 'mysql_svc.metadata_stuck', runId: 'r1', state: 'running', startedMsAgo: 7 * HOUR },
          { fqn: 'pg_svc.usage_stuck', runId: 'r2', state: 'running', startedMsAgo: 9 * HOUR },
          { fqn: 'mysql_svc.metadata_fresh', runId: 'r3', state: 'running', startedMsAgo: 1 * HOUR },
          { fqn: 'mysql_svc.metadata_done', runId: 'r4', state: 'success', startedMsAgo: 7 * HOUR },
          { fqn: 'mysql_svc.metadata_failed', runId: 'r5', state: 'failed', startedMsAgo: 8 * HOUR },
        ]);
        const report = await runPreflight(configFor(db.appSpec));
        const f = only(report, 'stale-runs');
        assert.equal(f.severity, 'warn');
        assert.equal(f.data?.count, 2);
        assert.match(f.summary, /^2 pipeline run\(s\) "running" for more than 6h/);
        assert.match(f.summary, /mysql_svc\.metadata_stuck/);
        assert.match(f.summary, /pg_svc\.usage_stuck/);
        assert.doesNotMatch(f.summary, /metadata_fresh|metadata_done|metadata_failed/);
        const runs = f.data?.runs as Array<{ runId: string }>;
        assert.deepEqual(runs.map((r) => r.runId).sort(), ['r1', 'r2']);
      });

      it('follows --stale-after', async () => {
        const f = only(await runPreflight(configFor(db.appSpec, { staleAfter: '8h' })), 'stale-runs');
        assert.equal(f.data?.count, 1);
        assert.match(f.summary, /pg_svc\.usage_stuck/);
      });

      it('is ok with runs running for 1h, or finished long ago', async () => {
        await app.knex.raw('DELETE FROM entity_extension_time_series');
        await app.knex.raw('DELETE FROM ingestion_pipeline_entity');
        await insertPipelineRuns(app, [
          { fqn: 'svc.a', runId: 'r1', state: 'running', startedMsAgo: 1 * HOUR },
          { fqn: 'svc.b', runId: 'r2', state: 'success', startedMsAgo: 30 * HOUR },
        ]);
        const f = only(await runPreflight(configFor(db.appSpec)), 'stale-runs');
        assert.equal(f.severity, 'ok');
      });
    });

    describe('lock', () => {
      it('is ok when no other run holds it', async () => {
        assert.equal(only(await runPreflight(configFor(db.appSpec)), 'lock').severity, 'ok');
      });

      it('blocks while another connection holds the run lock, naming the holder', async () => {
        const holder = await connect(db.appSpec, { purpose: 'test-holder' });
        try {
          const lock = holder.lock(runLockName(db.appSpec));
          assert.equal(await lock.tryAcquire(0), true);
          const ownId = String(Object.values((holder.engine === 'mysql'
            ? (await holder.knex.raw('SELECT CONNECTION_ID() AS id'))[0][0]
            : (await holder.knex.raw('SELECT pg_backend_pid() AS id')).rows[0]) as Record<string, unknown>)[0]);
          const report = await runPreflight(configFor(db.appSpec));
          const f = only(report, 'lock');
          assert.equal(f.severity, 'block');
          assert.match(f.summary, new RegExp(`another om-migrate run holds the lock on ${db.name}`));
          assert.equal((f.data?.holder as { connectionId: string }).connectionId, ownId);
          // PostgreSQL keeps the program name (application_name); MariaDB without performance_schema only the id.
          assert.ok(f.summary.includes(`pid=${process.pid}`) || f.summary.includes(`connection ${ownId}`), f.summary);
          assert.equal(report.blocked, true);
          await lock.release();
          assert.equal(only(await runPreflight(configFor(db.appSpec)), 'lock').severity, 'ok', 'released: free again');
        } finally {
          await holder.close();
        }
      });
    });

    describe('sort memory', () => {
      /** The server-wide value; another test run on this machine could raise it for a moment. */
      async function serverValueBelow20MB(): Promise<boolean> {
        const [row] = server.engine === 'mysql'
          ? (await db.root.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS v'))[0]
          : (await db.root.knex.raw("SELECT pg_size_bytes(reset_val || unit) AS v FROM pg_settings WHERE name = 'work_mem'")).rows;
        return Number(row.v) < 20 * 1024 * 1024;
      }

      if (server.engine === 'mysql') {
        it('blocks the app user without SUPER, with the parameter-group hint', async (t) => {
          if (!(await serverValueBelow20MB())) return t.skip('sort_buffer_size is already 20 MB on this server');
          const f = only(await runPreflight(configFor(db.appSpec)), 'sort-memory');
          assert.equal(f.severity, 'block');
          assert.match(f.summary, /lacks SUPER \/ SYSTEM_VARIABLES_ADMIN/);
          assert.match(f.fix ?? '', /parameter group/);
          assert.match(f.fix ?? '', /--admin-url/);
        });
      } else {
        it('warns for the database owner: it may ALTER DATABASE … SET work_mem', async (t) => {
          if (!(await serverValueBelow20MB())) return t.skip('work_mem is already 20 MB on this server');
          const f = only(await runPreflight(configFor(db.appSpec)), 'sort-memory');
          assert.equal(f.severity, 'warn');
          assert.match(f.summary, /will be raised to 20 MB/);
        });

        it('blocks a role that neither owns the database nor is superuser, with the parameter-group hint', async (t) => {
          if (!(await serverValueBelow20MB())) return t.skip('work_mem is already 20 MB on this server');
          const role = uniqueName('omm_ro');
          const password = 'ro-pw';
          await db.root.knex.raw(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
          await db.root.knex.raw(`GRANT CONNECT ON DATABASE "${db.name}" TO "${role}"`);
          await app.knex.raw(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"`);
          try {
            const spec = { ...db.appSpec, user: role, password };
            const report = await runPreflight(configFor(spec));
            const f = only(report, 'sort-memory');
            assert.equal(f.severity, 'block');
            assert.match(f.summary, new RegExp(`${role} is neither superuser nor the owner of database ${db.name}`));
            assert.match(f.fix ?? '', /parameter group/);
            const scoped = only(await runPreflight(configFor(spec, { workMemScope: 'role' })), 'sort-memory');
            assert.equal(scoped.severity, 'warn', 'a role may ALTER ROLE itself');
          } finally {
            await app.knex.raw(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "${role}"`);
            await db.root.knex.raw(`REVOKE ALL ON DATABASE "${db.name}" FROM "${role}"`);
            await db.root.knex.raw(`DROP ROLE "${role}"`);
          }
        });
      }

      it('warns "will be raised" when --admin-url is a superuser', async (t) => {
        if (!(await serverValueBelow20MB())) return t.skip('already 20 MB on this server');
        const f = only(await runPreflight(configFor(db.appSpec, { adminUrl: specUrl({ ...server.admin, database: '' }) })), 'sort-memory');
        assert.equal(f.severity, 'warn');
        assert.match(f.summary, /will be raised to 20 MB for the migration and put back after/);
      });

      it('is ok when the value is already high enough (database setting)', async (t) => {
        if (server.engine === 'mysql') return t.skip('the MariaDB global cannot be raised without touching other tests');
        await db.root.knex.raw(`ALTER DATABASE "${db.name}" SET work_mem = '64MB'`);
        try {
          const f = only(await runPreflight(configFor(db.appSpec)), 'sort-memory');
          assert.equal(f.severity, 'ok');
          assert.match(f.summary, /work_mem is 64 MB/);
        } finally {
          await db.root.knex.raw(`ALTER DATABASE "${db.name}" RESET work_mem`);
        }
      });
    });

    describe('connection failures, each classified', () => {
      async function failure(spec: ConnectionSpec): Promise<{ failure: unknown; summary: string; fix?: string }> {
        const report = await runPreflight(configFor(spec));
        assert.equal(report.unreachable, true);
        const f = only(report, 'connection');
        assert.equal(f.severity, 'block');
        assert.ok(!f.summary.includes('\n'));
        if (spec.password) assert.ok(!JSON.stringify(report).includes(spec.password), 'no password in the report');
        return { failure: f.data?.failure, summary: f.summary, fix: f.fix };
      }

      it('wrong password (PostgreSQL here trusts 127.0.0.1: an unknown role instead)', async () => {
        const spec = server.engine === 'mysql'
          ? { ...db.appSpec, password: 'definitely-wrong-password' }
          : { ...db.appSpec, user: 'omm_no_such_role', password: 'definitely-wrong-password' };
        const f = await failure(spec);
        assert.equal(f.failure, 'auth');
        assert.match(f.summary, /wrong user or password/);
      });

      it('closed port', async () => {
        const f = await failure({ ...db.appSpec, port: await freePort() });
        assert.equal(f.failure, 'refused');
        assert.match(f.summary, /connection refused/);
      });

      it('unknown database', async () => {
        const f = await failure({ ...db.rootSpec, database: 'omm_no_such_database' });
        assert.equal(f.failure, 'unknown-database');
        assert.match(f.summary, /database "omm_no_such_database" does not exist/);
      });

      it('unknown host', async () => {
        const f = await failure({ ...db.appSpec, host: 'no-such-host.invalid' });
        assert.equal(f.failure, 'unknown-host');
        assert.match(f.summary, /unknown host "no-such-host\.invalid"/);
      });
    });
  });
}
