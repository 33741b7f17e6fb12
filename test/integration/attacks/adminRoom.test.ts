import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { JournalTable } from '../../../src/dialects/stores/JournalTable.js';
import type { Dialect } from '../../../src/dialects/types.js';
import { adminUrl, type UpScenario } from '../../fixtures/upScenario.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../helpers/embeddedPostgres.js';
import { SERVERS } from '../../helpers/servers.js';
import { backupFiles, ledgerRows, omVersion, parameterSnapshot, runCli, upTestServers, withGlobal } from '../../helpers/upHarness.js';

/**
 * The admin connection is a sealed room: it never reads or runs anything the application user could have written or
 * shaped (issue 21, points 1 and 2). The attacker holds only the application's credentials — and, as DBAs often give
 * them, a wildcard grant. Globals are only ever at stake on throw-away servers: the binary-logging MariaDB of this file
 * and an embedded PostgreSQL 14; on the shared PostgreSQL the attacker's prize is its own role's SUPERUSER.
 */
const { engines, scenario } = upTestServers();
/** engines[0]: this file's throw-away MariaDB with binary logging (MySQL 8's default set-up). */
const mariadb = engines[0];
const sharedPg = SERVERS.find((s) => s.engine === 'postgres')!;
let embedded: EmbeddedPostgres | undefined;
before(async () => {
  embedded = await startEmbeddedPostgres(14);
});
after(async () => {
  await embedded?.stop();
});

const DAY_AGO = () => new Date(Date.now() - 86_400_000).toISOString();

async function asRoot<T>(sc: UpScenario, fn: (root: Dialect) => Promise<T>): Promise<T> {
  const root = await connect(sc.server.admin);
  try {
    return await fn(root);
  } finally {
    await root.close();
  }
}

async function globals(sc: UpScenario): Promise<{ trust: string; sort: string }> {
  return asRoot(sc, async (root) => {
    const [rows] = await root.knex.raw('SELECT @@GLOBAL.log_bin_trust_function_creators AS trust, @@GLOBAL.sort_buffer_size AS sort');
    const row = (rows as Array<{ trust: unknown; sort: unknown }>)[0];
    return { trust: String(row.trust), sort: String(row.sort) };
  });
}

/** A journal row as om-migrate writes them, with the attacker's values. */
function row(sc: UpScenario, server: string, id: string, parameter: string, previous: string, next: string, scope = 'global') {
  return {
    id, run_id: 'planted-run', database_name: sc.om.name, server_name: server, parameter_name: parameter, scope,
    object_name: null, previous_value: previous, previous_existed: true, new_value: next, via: 'admin', status: 'applied',
    holder: 'om-migrate up pid=1 host=attacker', created_at: DAY_AGO(), updated_at: DAY_AGO(), note: null,
  };
}

function assertNothingMigrated(sc: UpScenario): Promise<void> {
  return (async () => {
    assert.equal(await ledgerRows(sc), undefined, 'no ledger table: up stopped before anything');
    assert.deepEqual(backupFiles(sc), [], 'no backup');
    assert.equal(await omVersion(sc), '1.10.2');
  })();
}

describe('MySQL family: a DBA-style wildcard grant reaches om-migrate\'s own journal database', () => {
  const WILDCARD = 'GRANT ALL ON `om\\_%`.* TO ?@?';

  async function grantWildcard(sc: UpScenario, grant: boolean): Promise<void> {
    await asRoot(sc, async (root) => {
      for (const host of ['%', 'localhost']) {
        await root.knex.raw(grant ? WILDCARD : 'REVOKE ALL ON `om\\_%`.* FROM ?@?', [sc.om.appSpec.user, host]);
      }
    });
  }

  it('planted journal rows: revert-params, status and up refuse, name the grant, and SET GLOBAL nothing', async () => {
    const sc = await scenario(mariadb.server());
    const before = await globals(sc);
    await grantWildcard(sc, true);
    const app = await connect(sc.om.appSpec);
    try {
      // Before om-migrate ever ran: the application user creates om_migrate, shaped as om-migrate would, and plants rows
      // whose "revert" is root turning the trust on and giving every session a 4 GB sort buffer.
      await app.knex.raw('CREATE DATABASE om_migrate');
      await new JournalTable(app.knex, { schema: 'om_migrate', database: sc.om.name }).ensure();
      const server = await app.params.serverIdentity();
      await app.knex.withSchema('om_migrate').table('om_migrate_journal').insert([
        row(sc, server, 'planted:trust', 'log_bin_trust_function_creators', '1', before.trust),
        row(sc, server, 'planted:sort', 'sort_buffer_size', String(4 * 1024 ** 3), before.sort),
      ]);
    } finally {
      await app.close();
    }
    try {
      for (const args of [['revert-params'], ['status'], ['up']]) {
        const run = await runCli(sc, args);
        assert.deepEqual(await globals(sc), before, `${args[0]}: no global was changed\n${run.stdout}${run.stderr}`);
        assert.equal(run.code, 4, `${args[0]}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, /GRANT ALL PRIVILEGES ON `om\\_%`\.\* lets `[^`]+`@`(%|localhost)` write or create objects in the database om_migrate/, run.stderr);
        assert.match(run.stderr, /fix: REVOKE ALL PRIVILEGES ON `om\\_%`\.\* FROM /, run.stderr);
      }
      await assertNothingMigrated(sc);
      const json = await runCli(sc, ['revert-params', '--json']);
      assert.equal(json.json.error.code, 'BLOCKED');
      assert.ok((json.json.error.details.problems as unknown[]).length >= 1);

      // The DBA removes the grant as told; the planted rows are still there, and still never run: om-migrate only ever
      // raised these values, so a "revert" that raises one is not one of its changes.
      await grantWildcard(sc, false);
      const revert = await runCli(sc, ['revert-params', '--json']);
      assert.equal(revert.code, 0, revert.stdout + revert.stderr);
      assert.deepEqual(revert.json.result.reverted, []);
      const rejected = (revert.json.result.rejected as Array<{ id: string; reason: string }>).map((r) => r.id).sort();
      assert.deepEqual(rejected, ['planted:sort', 'planted:trust']);
      assert.deepEqual(await globals(sc), before);
    } finally {
      await asRoot(sc, (root) => root.knex.raw('DROP DATABASE IF EXISTS om_migrate'));
    }
  });

  it('a SQL SECURITY INVOKER view in place of the journal: status never runs its function as root, with or without the grant', async () => {
    const sc = await scenario(mariadb.server());
    await grantWildcard(sc, true);
    // With binary logging on, only a trusted server lets an ordinary user create a function: om-migrate's own `up`
    // turns the trust on for Airflow's migration, and many servers keep it on for the same reason.
    await withGlobal(sc.server, 'log_bin_trust_function_creators', '1', async () => {
      const app = await connect(sc.om.appSpec);
      try {
        await app.knex.raw('CREATE DATABASE om_migrate');
        await app.knex.raw('CREATE TABLE om_migrate.seen (who VARCHAR(300))');
        await app.knex.raw('CREATE TABLE om_migrate.rows_source (id VARCHAR(100))');
        await app.knex.raw("INSERT INTO om_migrate.rows_source VALUES ('x')");
        await app.knex.raw(`CREATE FUNCTION om_migrate.whoami() RETURNS INT SQL SECURITY INVOKER MODIFIES SQL DATA NOT DETERMINISTIC
          BEGIN INSERT INTO om_migrate.seen VALUES (CURRENT_USER()); RETURN 1; END`);
        await app.knex.raw(`CREATE SQL SECURITY INVOKER VIEW om_migrate.om_migrate_journal AS
          SELECT id, 'r' AS run_id, '${sc.om.name}' AS database_name, 's' AS server_name, 'sort_buffer_size' AS parameter_name,
                 'global' AS scope, NULL AS object_name, '262144' AS previous_value, 1 AS previous_existed, '262144' AS new_value,
                 'admin' AS via, IF(om_migrate.whoami() = 1, 'applied', 'applied') AS status, 'h' AS holder,
                 '2020-01-01' AS created_at, '2020-01-01' AS updated_at, NULL AS note
            FROM om_migrate.rows_source`);
      } finally {
        await app.close();
      }
    });
    const seen = () => asRoot(sc, async (root) => ((await root.knex.raw('SELECT who FROM om_migrate.seen'))[0] as Array<{ who: string }>).map((r) => r.who));
    try {
      const withGrant = await runCli(sc, ['status']);
      assert.deepEqual(await seen(), [], 'the view\'s function never ran');
      assert.equal(withGrant.code, 4, withGrant.stdout + withGrant.stderr);
      assert.match(withGrant.stderr, /om_migrate\.om_migrate_journal is a view om-migrate never creates, in place of its journal table/);
      assert.match(withGrant.stderr, /GRANT ALL PRIVILEGES ON `om\\_%`/);
      assert.deepEqual(await seen(), [], 'the view\'s function never ran');

      await grantWildcard(sc, false);
      const without = await runCli(sc, ['status']);
      assert.deepEqual(await seen(), [], 'without the grant either');
      assert.equal(without.code, 4, without.stdout + without.stderr);
      assert.match(without.stderr, /om_migrate\.om_migrate_journal is a view om-migrate never creates/);
      assert.match(without.stderr, /fix: DROP VIEW `om_migrate`\.`om_migrate_journal`/);
      assert.match(without.stderr, /the function whoami/i);
      assert.deepEqual(await seen(), [], 'the view\'s function never ran, not as root, not as anyone');
    } finally {
      await asRoot(sc, (root) => root.knex.raw('DROP DATABASE IF EXISTS om_migrate'));
    }
  });
});

describe('PostgreSQL: the database owner shapes the admin\'s session', () => {
  /**
   * As the owner of its database: functions named like the catalog's in its own public schema, and public ahead of
   * pg_catalog on the database's search_path, so every session there that calls them unqualified calls these. They
   * note who called them and, when that is a superuser, make the owner one.
   */
  async function shadowCatalog(sc: UpScenario): Promise<void> {
    const app = await connect(sc.om.appSpec);
    try {
      const role = sc.om.appSpec.user;
      await app.knex.raw('CREATE TABLE public.evil_calls (who text, fn text)');
      await app.knex.raw('GRANT ALL ON public.evil_calls TO PUBLIC');
      const body = (fn: string, call: string) => `
        BEGIN
          INSERT INTO public.evil_calls VALUES (pg_catalog.current_user(), '${fn}');
          IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = pg_catalog.current_user()) THEN
            EXECUTE 'ALTER ROLE "${role}" SUPERUSER';
          END IF;
          RETURN ${call};
        END`;
      await app.knex.raw(`CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS $$${body('set_config', 'pg_catalog.set_config($1, $2, $3)')}$$`);
      await app.knex.raw(`CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE plpgsql AS $$${body('current_setting', 'pg_catalog.current_setting($1)')}$$`);
      await app.knex.raw(`CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS $$${body('current_setting', 'pg_catalog.current_setting($1, $2)')}$$`);
      await app.knex.raw(`CREATE FUNCTION public.pg_backend_pid() RETURNS int LANGUAGE plpgsql AS $$${body('pg_backend_pid', 'pg_catalog.pg_backend_pid()')}$$`);
      await app.knex.raw(`ALTER DATABASE "${sc.om.name}" SET search_path = public, pg_catalog`);
    } finally {
      await app.close();
    }
  }

  async function appRole(sc: UpScenario): Promise<{ super: boolean; calls: Array<{ who: string; fn: string }> }> {
    return asRoot(sc, async (root) => {
      const r = await root.knex.raw('SELECT rolsuper FROM pg_roles WHERE rolname = ?', [sc.om.appSpec.user]);
      const db = await connect(sc.om.rootSpec);
      try {
        const calls = await db.knex.raw('SELECT who, fn FROM public.evil_calls WHERE who <> ?', [sc.om.appSpec.user]);
        return { super: (r as { rows: Array<{ rolsuper: boolean }> }).rows[0].rolsuper, calls: (calls as { rows: Array<{ who: string; fn: string }> }).rows };
      } finally {
        await db.close();
      }
    });
  }

  it('an admin URL without a database: status, revert-params and up never run the owner\'s functions as the superuser', async () => {
    const sc = await scenario(sharedPg);
    await shadowCatalog(sc);
    const noDatabase = { OM_MIGRATE_ADMIN_URL: adminUrl(sc.server.admin).replace(/\/[^/]*$/, '') };
    for (const args of [['status'], ['revert-params'], ['preflight']]) {
      const run = await runCli(sc, args, noDatabase);
      assert.equal(run.code, 0, `${args[0]}: ${run.stdout}${run.stderr}`);
      assert.deepEqual(await appRole(sc), { super: false, calls: [] }, `${args[0]}: nothing of the owner's ran as anyone else`);
    }
    const up = await runCli(sc, ['up'], noDatabase);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.equal(await omVersion(sc), '1.11.0');
    assert.deepEqual(await appRole(sc), { super: false, calls: [] });
  });

  it('an admin URL naming the application\'s own database is refused (exit 4), and nothing of the owner\'s runs as the superuser', async () => {
    const sc = await scenario(sharedPg);
    await shadowCatalog(sc);
    const intoApp = { OM_MIGRATE_ADMIN_URL: adminUrl({ ...sc.server.admin, database: sc.om.name }) };
    const params = await parameterSnapshot(sc);
    for (const args of [['status'], ['up']]) {
      const run = await runCli(sc, args, intoApp);
      assert.deepEqual(await appRole(sc), { super: false, calls: [] }, `${args[0]}: nothing of the owner's ran as the superuser`);
      assert.equal(run.code, 4, `${args[0]}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, new RegExp(`the admin connection's database ${sc.om.name} is owned by ${sc.om.appSpec.user}`));
      assert.match(run.stderr, /fix: Name a database .* does not own in the admin URL \(postgres\), or leave the database out of it/);
      assert.deepEqual(await appRole(sc), { super: false, calls: [] });
    }
    assert.deepEqual(await parameterSnapshot(sc), params);
    await assertNothingMigrated(sc);
  });

  it('a DBA grant on om-migrate\'s own journal (embedded PostgreSQL 14): refused with the REVOKE, ALTER SYSTEM never run', async () => {
    const sc = await scenario(embedded!.server);
    const systemWorkMem = async () => asRoot(sc, async (root) =>
      (await root.knex.raw("SELECT setting, sourcefile FROM pg_file_settings WHERE name = 'work_mem'")).rows as unknown[]);
    // om-migrate ran before: its journal exists in the admin's database, owned by the admin; the DBA keeps work_mem in
    // postgresql.auto.conf.
    await asRoot(sc, async (root) => {
      await root.knex.raw("ALTER SYSTEM SET work_mem = '4096kB'");
      await root.knex.raw('SELECT pg_reload_conf()');
      await root.knex.raw('CREATE SCHEMA IF NOT EXISTS om_migrate');
      await new JournalTable(root.knex, { schema: 'om_migrate', database: 'postgres' }).ensure();
      // What a DBA does so that "the application can see what om-migrate did".
      await root.knex.raw(`GRANT USAGE ON SCHEMA om_migrate TO "${sc.om.appSpec.user}"`);
      await root.knex.raw(`GRANT ALL ON ALL TABLES IN SCHEMA om_migrate TO "${sc.om.appSpec.user}"`);
    });
    const before = await systemWorkMem();
    const app = await connect({ ...sc.om.appSpec, database: 'postgres' });
    try {
      const server = await app.params.serverIdentity();
      const live = '4096kB';
      await app.knex.withSchema('om_migrate').table('om_migrate_journal').insert(
        { ...row(sc, server, 'planted:system', 'work_mem', '2000000kB', live, 'system') });
    } finally {
      await app.close();
    }
    try {
      for (const args of [['revert-params'], ['status'], ['up']]) {
        const run = await runCli(sc, args);
        assert.deepEqual(await systemWorkMem(), before, `${args[0]}: ALTER SYSTEM was never run\n${run.stdout}${run.stderr}`);
        assert.equal(run.code, 4, `${args[0]}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, new RegExp(`${sc.om.appSpec.user} may write om_migrate\\.om_migrate_journal \\(granted to "?${sc.om.appSpec.user}"?\\)`));
        assert.match(run.stderr, /fix: REVOKE ALL ON om_migrate\.om_migrate_journal FROM /);
      }
    } finally {
      // The grants would keep the scenario's role from being dropped.
      await asRoot(sc, (root) => root.knex.raw('DROP SCHEMA IF EXISTS om_migrate CASCADE'));
    }
  });
});
