import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { runPreflight } from '../../src/api/preflight.js';
import { createPipelineTables, insertPipelineRuns } from '../fixtures/openmetadata/pipelineStatus.js';
import { createServerChangeLog, insertVersions, TRICKY_VERSIONS } from '../fixtures/openmetadata/serverChangeLog.js';
import { BinlogMariadb, startBinlogMariadb } from '../helpers/binlogMariadb.js';
import { cleanEnv, omArgs, runCli, specUrl } from '../helpers/cli.js';
import { createScratchDatabase, ScratchDatabase, SERVERS, TestServer } from '../helpers/servers.js';

type Snapshot = Record<string, unknown>;

/** Whatever `preflight --dry-run` could conceivably change: server parameters, settings, schema, rows. */
async function snapshot(root: Dialect, database: string, appUser: string): Promise<Snapshot> {
  const q = async (sql: string, bindings: unknown[] = []): Promise<unknown[]> => {
    const result = await root.knex.raw(sql, bindings as never);
    return root.engine === 'mysql' ? (result as unknown as [unknown[]])[0] : (result as { rows: unknown[] }).rows;
  };
  if (root.engine === 'mysql') {
    const tables = (await q('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [database]))
      .map((r) => (r as { t: string }).t);
    const checksums: Record<string, unknown> = {};
    for (const t of tables) checksums[t] = (await q(`CHECKSUM TABLE \`${database}\`.\`${t}\``))[0];
    return {
      globals: await q('SHOW GLOBAL VARIABLES'),
      databases: await q('SHOW DATABASES'),
      users: await q('SELECT User, Host, Priv FROM mysql.global_priv ORDER BY User, Host'),
      grants: await q('SHOW GRANTS FOR ?@?', [appUser, '%']),
      tables,
      columns: await q(`SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY 1, 3`, [database]),
      indexes: await q(`SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE
        FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY 1, 2, 3`, [database]),
      constraints: await q(`SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
        WHERE TABLE_SCHEMA = ? ORDER BY 1, 2`, [database]),
      routines: await q('SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1', [database]),
      checksums,
    };
  }
  const tables = (await q(`SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`)).map((r) => (r as { t: string }).t);
  const digests: Record<string, unknown> = {};
  for (const t of tables) {
    digests[t] = (await q(`SELECT count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest FROM "${t}" x`))[0];
  }
  return {
    settings: await q('SELECT name, setting, reset_val, source, sourcefile, pending_restart FROM pg_settings ORDER BY name'),
    autoConf: await q('SELECT name, setting, sourcefile, applied FROM pg_file_settings ORDER BY sourcefile, seqno'),
    dbRoleSettings: await q(`SELECT coalesce(r.rolname, '') AS role, coalesce(d.datname, '') AS db, s.setconfig
        FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase
       WHERE d.datname = ? OR r.rolname = ? OR (s.setrole = 0 AND s.setdatabase = 0) ORDER BY 1, 2`, [database, appUser]),
    role: await q('SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolconfig FROM pg_roles WHERE rolname = ?', [appUser]),
    database: await q('SELECT datname, datdba::regrole::text AS owner, datconfig FROM pg_database d LEFT JOIN LATERAL (SELECT setconfig AS datconfig FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0) s ON true WHERE datname = ?', [database]),
    tables,
    columns: await q(`SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3`),
    indexes: await q("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"),
    constraints: await q(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`),
    functions: await q("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1"),
    digests,
  };
}

for (const listed of SERVERS) {
  // MariaDB: a throw-away server of our own, so that no other test run on this machine can move a global variable
  // between the two snapshots (and it has binary logging, so the log_bin_trust change is planned too).
  describe(`preflight --dry-run changes nothing on ${listed.label}`, () => {
    let binlog: BinlogMariadb | undefined;
    let server: TestServer;
    let db: ScratchDatabase;
    let app: Dialect;
    let adminUrl: string;
    const backupDir = join(mkdtempSync(join(tmpdir(), 'omm-dry-')), 'backups-not-created');
    before(async () => {
      if (listed.engine === 'mysql') {
        binlog = await startBinlogMariadb();
        server = binlog.server;
      } else {
        server = listed;
      }
      db = await createScratchDatabase(server, 'omm_dry');
      app = await connect(db.appSpec);
      await createServerChangeLog(app);
      await insertVersions(app, TRICKY_VERSIONS);
      await createPipelineTables(app);
      await insertPipelineRuns(app, [
        { fqn: 'svc.stuck', runId: 'r1', state: 'running', startedMsAgo: 7 * 3_600_000 },
        { fqn: 'svc.done', runId: 'r2', state: 'success', startedMsAgo: 9 * 3_600_000 },
      ]);
      adminUrl = specUrl({ ...server.admin, database: '' });
    });
    after(async () => {
      await app?.close();
      await db?.drop();
      await binlog?.stop();
      rmSync(join(backupDir, '..'), { recursive: true, force: true });
    });

    it('through the library: equal snapshots, and a plan with backup path, parameter changes with revert SQL, steps', async () => {
      const config = resolveConfig({ dbScheme: db.appSpec.engine === 'mysql' ? 'mysql' : 'postgresql', dbHost: db.appSpec.host,
        dbPort: String(db.appSpec.port), dbUser: db.appSpec.user, database: db.name, adminUrl, to: '1.11.0', backupDir, fixStaleRuns: true },
      cleanEnv({ DB_USER_PASSWORD: db.appSpec.password! }));
      const before = await snapshot(db.root, db.name, db.appSpec.user);
      const report = await runPreflight(config, { dryRun: true });
      const afterwards = await snapshot(db.root, db.name, db.appSpec.user);
      assert.deepEqual(afterwards, before);
      assert.equal(existsSync(backupDir), false, 'the backup directory is not created');

      const plan = report.plan!;
      assert.ok(plan, 'a plan');
      assert.equal(plan.backups.length, 1);
      assert.equal(plan.backups[0].target, 'openmetadata');
      assert.ok(plan.backups[0].file.startsWith(`${backupDir}/${db.name}-om1.10.2-`), plan.backups[0].file);
      assert.match(plan.backups[0].file, server.engine === 'mysql' ? /Z\.sql$/ : /Z\.dump$/);

      const sort = plan.parameterChanges.find((c) => c.gate === 'sort-memory');
      assert.ok(sort, JSON.stringify(plan.parameterChanges));
      if (server.engine === 'mysql') {
        const previous = Number((await db.root.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS v'))[0][0].v);
        assert.deepEqual(sort.sql, ['SET GLOBAL sort_buffer_size = 20971520']);
        assert.deepEqual(sort.revertSql, [`SET GLOBAL sort_buffer_size = ${previous}`]);
        const trust = plan.parameterChanges.find((c) => c.gate === 'log-bin-trust');
        assert.deepEqual(trust?.sql, ['SET GLOBAL log_bin_trust_function_creators = 1']);
        assert.deepEqual(trust?.revertSql, ['SET GLOBAL log_bin_trust_function_creators = 0']);
      } else {
        assert.deepEqual(sort.sql, [`ALTER DATABASE "${db.name}" SET work_mem = '20MB'`]);
        assert.deepEqual(sort.revertSql, [`ALTER DATABASE "${db.name}" RESET work_mem`]);
      }
      assert.deepEqual(plan.steps.map((s) => s.name), ['openmetadata/server-migrate', 'openmetadata/stale-pipeline-runs']);
      assert.match(plan.steps[0].description, /1\.10\.2 → 1\.11\.0/);
    });

    it('the snapshot notices the planned change, and the planned revert SQL puts everything back', async () => {
      const config = resolveConfig({ dbScheme: db.appSpec.engine === 'mysql' ? 'mysql' : 'postgresql', dbHost: db.appSpec.host,
        dbPort: String(db.appSpec.port), dbUser: db.appSpec.user, database: db.name, adminUrl, to: '1.11.0', backupDir },
      cleanEnv({ DB_USER_PASSWORD: db.appSpec.password! }));
      const plan = (await runPreflight(config, { dryRun: true })).plan!;
      const before = await snapshot(db.root, db.name, db.appSpec.user);
      for (const change of plan.parameterChanges) for (const sql of change.sql ?? []) await db.root.knex.raw(sql);
      try {
        assert.notDeepEqual(await snapshot(db.root, db.name, db.appSpec.user), before, 'the snapshot sees parameter changes');
      } finally {
        for (const change of plan.parameterChanges) for (const sql of change.revertSql ?? []) await db.root.knex.raw(sql);
      }
      assert.deepEqual(await snapshot(db.root, db.name, db.appSpec.user), before);
    });

    it('through the CLI: equal snapshots, exit 0, the plan printed', async () => {
      const { args, env } = omArgs(db.appSpec);
      const before = await snapshot(db.root, db.name, db.appSpec.user);
      const result = await runCli(['preflight', '--dry-run', '--to', '1.11.0', '--backup-dir', backupDir, ...args],
        { env: { ...env, OM_MIGRATE_ADMIN_URL: adminUrl } });
      const afterwards = await snapshot(db.root, db.name, db.appSpec.user);
      assert.deepEqual(afterwards, before);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /plan of `om-migrate up` \(nothing was changed\)/);
      assert.match(result.stdout, new RegExp(`backup   openmetadata: ${backupDir}/${db.name}-om1\\.10\\.2-\\d{8}T\\d{6}Z\\.(sql|dump)`));
      assert.match(result.stdout, /param {4}openmetadata: (sort_buffer_size|work_mem) .* → /);
      assert.match(result.stdout, /revert: (SET GLOBAL sort_buffer_size = \d+|ALTER DATABASE "[a-z0-9_]+" RESET work_mem)/);
      assert.match(result.stdout, /step 1 {3}openmetadata\/server-migrate/);
      assert.doesNotMatch(result.stdout, new RegExp(db.appSpec.password!), 'no password in the output');
      assert.equal(existsSync(backupDir), false);
    });
  });
}
