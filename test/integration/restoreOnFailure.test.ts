import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { sourceHash } from '../../src/config/scratchNames.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { controlsEnv } from '../fixtures/airflow/python/pythonAirflow.js';
import type { UpScenario } from '../fixtures/upScenario.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase, type TestServer } from '../helpers/servers.js';
import {
  assertParametersAsBefore, killHard, ledgerRows, parameterSnapshot, runCli, startCli, upTestServers, waitFor, type LiveRun,
} from '../helpers/upHarness.js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `up --restore-on-failure` on both engines: a migrator that changes the schema, deletes rows and dies before recording
 * its version; with the flag every table's columns and content are those before up, the parameters are back, the
 * failed state is kept where the message says (exit 16); without it nothing is restored (exit 8). Faults: a broken
 * dump (exit 17, failed state untouched), a second application session, SIGTERM during the restore, SIGKILL then
 * status and up.
 */
const live: LiveRun[] = [];
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
});
const { engines, scenario } = upTestServers();

/** Each table's columns and a checksum of its rows (order-independent); om-migrate's own tables are its record, not the data. */
async function snapshot(db: ScratchDatabase): Promise<Record<string, { columns: string; rows: number; checksum: string }>> {
  const d = await connect(db.rootSpec);
  try {
    const mysql = d.engine === 'mysql';
    const tables = await d.knex.raw(mysql
      ? "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
      : "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'");
    const names = (mysql ? tables[0] : tables.rows).map((r: { t: string }) => r.t).filter((t: string) => !t.startsWith('om_migrate_')).sort();
    const out: Record<string, { columns: string; rows: number; checksum: string }> = {};
    for (const t of names) {
      const cols = await d.knex.raw(mysql
        ? 'SELECT COLUMN_NAME AS c, COLUMN_TYPE AS y, IS_NULLABLE AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION'
        : "SELECT column_name AS c, data_type AS y, is_nullable AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position", [t]);
      const columns = (mysql ? cols[0] : cols.rows).map((r: { c: string; y: string; n: string }) => `${r.c} ${r.y} ${r.n}`).join(', ');
      const rows = (await d.knex.select('*').from(t)) as Array<Record<string, unknown>>;
      const lines = rows.map((r) => JSON.stringify(r, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).sort();
      out[t] = { columns, rows: rows.length, checksum: createHash('sha256').update(lines.join('\n')).digest('hex') };
    }
    // Indexes and foreign keys too: a foreign key left pointing into the kept or scratch database would be a broken restore.
    const keys = await d.knex.raw(mysql
      ? `SELECT CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME, ' -> ', IF(REFERENCED_TABLE_SCHEMA = DATABASE(), 'self', REFERENCED_TABLE_SCHEMA), '.', REFERENCED_TABLE_NAME, '(', REFERENCED_COLUMN_NAME, ')') AS k
           FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
         UNION ALL SELECT CONCAT(TABLE_NAME, ' index ', INDEX_NAME, ' ', COLUMN_NAME, ' ', SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()`
      : `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS k FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const keyList = (mysql ? keys[0] : keys.rows).map((r: { k: string }) => r.k).filter((k: string) => !/om_migrate_/.test(k)).sort();
    out['(keys and indexes)'] = { columns: keyList.join('\n'), rows: keyList.length, checksum: '' };
    return out;
  } finally {
    await d.close();
  }
}

/** A watched OpenMetadata table with rows, owned by the application user: what the failing migrator deletes. */
async function seedEntities(sc: UpScenario, rows = 30): Promise<void> {
  const d = sc.om.root;
  await d.knex.schema.createTable('team_entity', (t) => {
    t.string('id', 36).primary();
    t.text('json').notNullable();
  });
  await d.knex.table('team_entity').insert(Array.from({ length: rows }, (_, i) => ({ id: `t-${i}`, json: JSON.stringify({ name: `team ${i}` }) })));
  if (sc.server.engine === 'postgres') await d.knex.raw(`ALTER TABLE team_entity OWNER TO "${sc.om.appSpec.user}"`);
}

/**
 * PostgreSQL: settings and grants on the database object itself. They are not in a dump, so the swap must carry them
 * onto the restored database.
 */
async function setDatabaseSettings(sc: UpScenario): Promise<void> {
  if (sc.server.engine !== 'postgres') return;
  await sc.om.root.knex.raw(`ALTER DATABASE "${sc.om.name}" SET search_path = "$user", public`);
  await sc.om.root.knex.raw(`ALTER DATABASE "${sc.om.name}" SET lock_timeout = '5s'`);
  await sc.om.root.knex.raw(`REVOKE CONNECT, TEMPORARY ON DATABASE "${sc.om.name}" FROM PUBLIC`);
}

/** PostgreSQL renames only a database no session uses: the fixtures' own superuser sessions go before up. */
async function closeFixtureSessions(sc: UpScenario): Promise<void> {
  await sc.om.root.close();
  await sc.airflow.root.close();
}

async function databasesLike(server: TestServer, prefix: string): Promise<string[]> {
  const d = await connect(server.admin);
  try {
    const r = await d.knex.raw(server.engine === 'mysql' ? 'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA' : 'SELECT datname AS n FROM pg_database');
    return (server.engine === 'mysql' ? r[0] : r.rows).map((x: { n: string }) => x.n).filter((n: string) => n.startsWith(prefix)).sort();
  } finally {
    await d.close();
  }
}

async function dropDatabases(server: TestServer, names: string[]): Promise<void> {
  const d = await connect(server.admin);
  try {
    for (const n of names) await d.knex.raw(server.engine === 'mysql' ? 'DROP DATABASE IF EXISTS ??' : 'DROP DATABASE IF EXISTS ?? WITH (FORCE)', [n]);
  } finally {
    await d.close();
  }
}

/** The om-migrate databases this scenario's run left (scratch copies and kept failed states), for assertions and cleanup. */
const leftBy = (sc: UpScenario) => async () => (await Promise.all([sc.om.appSpec, sc.airflow.appSpec].flatMap((spec) =>
  ['omm_restore_', 'omm_failed_'].map((prefix) => databasesLike(sc.server, `${prefix}${sourceHash(spec)}_`))))).flat();

async function rowsOf(server: TestServer, database: string, table: string): Promise<number> {
  const d: Dialect = await connect({ ...server.admin, database });
  try {
    const [{ n }] = await d.knex.table(table).count({ n: '*' }) as Array<{ n: number | string }>;
    return Number(n);
  } finally {
    await d.close();
  }
}

/** The run's restore record in the backup directory, as last written. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function restoreRecord(sc: UpScenario): any {
  const name = readdirSync(sc.backupDir).find((f) => f.startsWith('restore-on-failure-') && f.endsWith('.json'));
  if (!name) return undefined;
  try {
    return JSON.parse(readFileSync(join(sc.backupDir, name), 'utf8'));
  } catch {
    return undefined;
  }
}

function backupFilesOf(sc: UpScenario): string[] {
  return readdirSync(sc.backupDir);
}

/** PostgreSQL: the database's owner and ACL as the catalog shows them (MySQL: its grants stay with the name). */
async function databaseAcl(sc: UpScenario): Promise<string> {
  if (sc.server.engine !== 'postgres') return '';
  const d = await connect(sc.server.admin);
  try {
    const r = await d.knex.raw('SELECT pg_catalog.pg_get_userbyid(datdba) AS o, datacl::text AS a FROM pg_database WHERE datname = ?', [sc.om.name]);
    return JSON.stringify(r.rows[0]);
  } finally {
    await d.close();
  }
}

const FAIL = { OM_STANDIN_FAIL_AT: '1.10.3', OM_STANDIN_DELETE_ROWS: 'team_entity' };

/**
 * The scenario most tests here start from: OpenMetadata's watched table seeded (unless `seed` is false), `prepare`
 * run while the fixtures' sessions are still open, then those sessions closed; `body` gets `left`, and whatever
 * databases the run left are dropped after it, passed or failed.
 */
async function withScenario(server: TestServer, body: (sc: UpScenario, left: () => Promise<string[]>) => Promise<void>,
  options: { seed?: boolean; prepare?: (sc: UpScenario) => Promise<void> } = {}): Promise<void> {
  const sc = await scenario(server);
  if (options.seed ?? true) await seedEntities(sc);
  await options.prepare?.(sc);
  await closeFixtureSessions(sc);
  const left = leftBy(sc);
  try {
    await body(sc, left);
  } finally {
    await dropDatabases(sc.server, await left());
  }
}

for (const engine of engines) {
  describe(`up --restore-on-failure: ${engine.label}`, () => {
    it('a migrator that changes the schema, deletes rows and dies: every table as before up, parameters back, the failed state kept, exit 16', () => withScenario(engine.server(), async (sc, left) => {
      const aclBefore = await databaseAcl(sc);
      const params = await parameterSnapshot(sc);
      const omBefore = await snapshot(sc.om);
      const airflowBefore = await snapshot(sc.airflow);
      const run = await runCli(sc, ['up', '--restore-on-failure', '--json'], FAIL);
      assert.equal(run.code, 16, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'FAILED_RESTORED');
      const restored = run.json.error.details.restored as Array<{ role: string; kept: string; phase: string }>;
      assert.deepEqual(restored.map((r) => `${r.role}:${r.phase}`), ['openmetadata:swapped'], 'only the database a step changed');
      const kept = restored[0].kept;
      assert.match(run.json.error.message, new RegExp(`failed state is kept in ${kept}`));
      assert.match(run.json.error.message, /migrator exited with 1/, 'the original failure is said');
      assert.deepEqual(await snapshot(sc.om), omBefore, 'every table\'s columns and content as before up');
      assert.deepEqual(await snapshot(sc.airflow), airflowBefore, 'Airflow was not touched');
      await assertParametersAsBefore(sc, params);
      assert.deepEqual(await databaseAcl(sc), aclBefore, 'the database-level grants are the live database\'s');
      assert.deepEqual(await left(), [kept], 'the scratch copy is gone; the failed state is kept');
      assert.equal(await rowsOf(sc.server, kept, 'team_entity'), 0, 'the kept failed state is what the migrator left');
      assert.ok(await rowsOf(sc.server, kept, 'om_standin_data_migration_runs') > 0);
      const ledger = (await ledgerRows(sc))!;
      const mine = ledger.filter((r) => r.runId === run.json.error.details.progress.runId);
      assert.ok(mine.some((r) => r.step === 'run' && r.status === 'failed'), 'the failed run\'s record was carried into the restored database');
      assert.ok(mine.some((r) => r.step === 'restore-on-failure' && r.status === 'done'));
      const text = await runCli(sc, ['status']);
      assert.equal(text.code, 0, text.stderr);
    }, { prepare: setDatabaseSettings }));

    it('OpenMetadata migrated, Airflow failed half way: both databases restored', () => withScenario(engine.server(), async (sc, left) => {
      const omBefore = await snapshot(sc.om);
      const airflowBefore = await snapshot(sc.airflow);
      const run = await runCli(sc, ['up', '--restore-on-failure', '--json'], controlsEnv({ stopAfter: 1 }));
      assert.equal(run.code, 16, run.stdout + run.stderr);
      const restored = run.json.error.details.restored as Array<{ role: string; phase: string }>;
      assert.deepEqual(restored.map((r) => `${r.role}:${r.phase}`), ['openmetadata:swapped', 'airflow:swapped']);
      assert.deepEqual(await snapshot(sc.om), omBefore);
      assert.deepEqual(await snapshot(sc.airflow), airflowBefore);
    }));

    it('preflight --dry-run says what a failure triggers; without an admin connection the flag blocks before anything changes', async () => {
      const sc = await scenario(engine.server());
      const dry = await runCli(sc, ['preflight', '--dry-run', '--restore-on-failure']);
      assert.match(dry.stdout, /failure +a step that fails after it may have changed a database: .* restored from its backup/);
      const h = sourceHash(sc.om.appSpec);
      assert.match(dry.stdout, new RegExp(`openmetadata: restored into omm_restore_${h}_<run>_${sc.om.name}, the failed state kept as omm_failed_${h}_<run>_${sc.om.name}`));
      assert.match(dry.stdout, /no rehearsal recorded how long the restore takes/);
      const json = await runCli(sc, ['preflight', '--dry-run', '--restore-on-failure', '--json']);
      assert.equal(json.json.result.plan.onFailure.restore, true);
      assert.ok(json.json.result.findings.some((f: { gate: string; severity: string }) => f.gate === 'restore-on-failure' && f.severity === 'ok'));
      const plain = await runCli(sc, ['preflight', '--dry-run', '--json']);
      assert.equal(plain.json.result.plan.onFailure.restore, false);
      const rehearsal = await runCli(sc, ['rehearse', '--json']);
      assert.equal(rehearsal.code, 0, rehearsal.stdout + rehearsal.stderr);
      const timed = await runCli(sc, ['preflight', '--dry-run', '--restore-on-failure', '--json']);
      assert.equal(timed.json.result.plan.onFailure.lastRehearsalRestoreMs, rehearsal.json.result.timings.restoreMs, 'the plan says how long the last rehearsal restored');

      const noAdmin = { ...sc, env: { ...sc.env, OM_MIGRATE_ADMIN_URL: '' } };
      const params = await parameterSnapshot(sc);
      const files = backupFilesOf(sc);
      const up = await runCli(noAdmin, ['up', '--restore-on-failure', '--json'], FAIL);
      assert.equal(up.code, 4, up.stdout + up.stderr);
      assert.match(up.json.error.message, /--restore-on-failure restores .* through the admin connection, and none is configured/);
      assert.deepEqual(backupFilesOf(sc), files, 'nothing was backed up');
      assert.equal(await rowsOf(sc.server, sc.om.name, sc.server.engine === 'mysql' ? 'SERVER_CHANGE_LOG' : 'server_change_log'), 6, 'nothing changed');
      await assertParametersAsBefore(sc, params);
    });

    it('entrypoint with OM_MIGRATE_RESTORE_ON_FAILURE=1: restored, exit 16, and the wrapped server is never started', () => withScenario(engine.server(), async (sc, left) => {
      const omBefore = await snapshot(sc.om);
      const marker = join(sc.backupDir, '..', `started-${sc.om.name}`);
      try {
        const run = await runCli(sc, ['entrypoint', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
          { ...FAIL, OM_MIGRATE_RESTORE_ON_FAILURE: '1' });
        assert.equal(run.code, 16, run.stdout + run.stderr);
        assert.match(run.stderr, /up failed and was undone/);
        assert.throws(() => readFileSync(marker), 'the wrapped command did not run');
        assert.deepEqual(await snapshot(sc.om), omBefore);
      } finally {
        rmSync(marker, { force: true });
      }
    }));

    it('preflight with the flag: a view (MySQL: RENAME TABLE cannot carry it) blocks before anything changes; PostgreSQL renames it with its database', async () => {
      const sc = await scenario(engine.server());
      await seedEntities(sc);
      await sc.om.root.knex.raw('CREATE VIEW team_names AS SELECT id FROM team_entity');
      const report = await runCli(sc, ['preflight', '--restore-on-failure', '--json']);
      const mine = report.json.result.findings.filter((f: { gate: string }) => f.gate === 'restore-on-failure');
      if (sc.server.engine === 'mysql') {
        assert.equal(report.code, 4, report.stdout);
        assert.ok(mine.some((f: { severity: string; summary: string }) => f.severity === 'block' && /view team_names/.test(f.summary)), JSON.stringify(mine));
      } else {
        assert.deepEqual(mine.map((f: { severity: string }) => f.severity), ['ok', 'ok']);
      }
    });

    it('Airflow stopped right after creating uuid_generate_v7: MySQL refuses the swap naming the function (exit 17, failed state untouched); PostgreSQL restores', () => withScenario(engine.server(), async (sc, left) => {
      const airflowBefore = await snapshot(sc.airflow);
      const run = await runCli(sc, ['up', '--restore-on-failure', '--json'], controlsEnv({ stopAfter: 2 }));
      if (sc.server.engine === 'mysql') {
        assert.equal(run.code, 17, run.stdout + run.stderr);
        assert.match(run.json.error.message, /RENAME TABLE cannot carry function uuid_generate_v7 of .*: nothing was swapped/);
        assert.deepEqual(await left(), [], 'nothing kept, no copy left: OpenMetadata was not swapped either');
        assert.match(run.json.error.message, new RegExp(`${sc.om.name} is as the failure left it, untouched`));
        assert.notDeepEqual(await snapshot(sc.airflow), airflowBefore, 'the failed state in place');
      } else {
        assert.equal(run.code, 16, run.stdout + run.stderr);
        assert.deepEqual(await snapshot(sc.airflow), airflowBefore);
      }
    }, { seed: false }));

    it('without the flag nothing is restored: exit 8, the failed state in place', async () => {
      const sc = await scenario(engine.server());
      await seedEntities(sc);
      const left = leftBy(sc);
      const run = await runCli(sc, ['up', '--json'], FAIL);
      assert.equal(run.code, 8, run.stdout + run.stderr);
      assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0);
      assert.deepEqual(await left(), []);
    });

    it('a broken dump: the restore fails, exit 17, the failed state untouched, nothing left behind', () => withScenario(engine.server(), async (sc, left) => {
      // The migrator breaks OpenMetadata's dump (it runs after the backup), deletes the rows, and fails.
      const script = join(sc.backupDir, '..', `break-${sc.om.name}.sh`);
      const del = sc.server.engine === 'mysql'
        ? `MYSQL_PWD="$DB_USER_PASSWORD" mariadb -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$OM_DATABASE" -e 'DELETE FROM team_entity'`
        : `PGPASSWORD="$DB_USER_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$OM_DATABASE" -c 'DELETE FROM team_entity'`;
      writeFileSync(script, `#!/bin/sh\nfor f in '${sc.backupDir}'/*${sc.om.name}*; do case "$f" in *.json) ;; *) echo broken >> "$f" ;; esac; done\n${del}\nexit 1\n`);
      const run = await runCli(sc, ['up', '--restore-on-failure', '--json'], { OM_MIGRATE_OM_COMMAND: `/bin/sh '${script}'` })
        .finally(() => rmSync(script, { force: true }));
      assert.equal(run.code, 17, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'FAILED_RESTORE_FAILED');
      assert.match(run.json.error.message, /does not verify/);
      assert.match(run.json.error.message, new RegExp(`${sc.om.name} is as the failure left it, untouched`));
      assert.match(run.json.error.hint, /om-migrate restore --manifest/);
      assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0, 'the failed state in place');
      assert.deepEqual(await left(), [], 'no scratch copy, nothing kept: nothing was swapped');
    }));

    it('a second application session connected: the swap is refused, exit 17, the failed state untouched', () => withScenario(engine.server(), async (sc, left) => {
      // A foreign client (not om-migrate's connect, whose sessions name themselves om-migrate and are never counted).
      const spec = sc.om.appSpec;
      const server = sc.server.engine === 'mysql'
        ? await mysql.createConnection({ host: spec.host, port: spec.port, user: spec.user, password: spec.password, database: spec.database })
        : new pg.Client({ host: spec.host, port: spec.port, user: spec.user, password: spec.password, database: spec.database, application_name: 'openmetadata-server' });
      if (server instanceof pg.Client) await server.connect();
      try {
        const preflight = await runCli(sc, ['preflight', '--restore-on-failure', '--json']);
        assert.ok(preflight.json.result.findings.some((f: { gate: string; severity: string; summary: string }) =>
          f.gate === 'restore-on-failure' && f.severity === 'warn' && /1 other session/.test(f.summary)), 'said beforehand');
        const run = await runCli(sc, ['up', '--restore-on-failure', '--json'], FAIL);
        assert.equal(run.code, 17, run.stdout + run.stderr);
        assert.match(run.json.error.message, /other session\(s\) of .* on /);
        assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0);
        assert.deepEqual(await left(), []);
      } finally {
        await server.end();
      }
    }));

    for (const at of ['restoring', 'swapping'] as const) {
      it(`SIGTERM once the record says ${at}: the swap is finished or the failed state stays, never a mix`, (t) => withScenario(engine.server(), async (sc, left) => {
        const omBefore = await snapshot(sc.om);
        const run = startCli(sc, ['up', '--restore-on-failure', '--json'], FAIL);
        live.push(run);
        await waitFor(`the restore to reach ${at}`, () => {
          const r = restoreRecord(sc);
          return r !== undefined && (r.outcome !== 'running' || r.databases.some((d: { phase: string }) => d.phase === at));
        }, 60_000);
        run.child.kill('SIGTERM');
        const done = await run.done;
        const record = restoreRecord(sc)!;
        t.diagnostic(`SIGTERM at ${at}: exit ${done.code}`);
        // A SIGTERM that lands after the run has ended (handlers gone, the process closing) kills it as any process;
        // the databases are as its record says: restored whole.
        if (done.code === 16 || (done.signal === 'SIGTERM' && record.outcome === 'restored')) {
          assert.deepEqual(await snapshot(sc.om), omBefore, 'restored whole');
          assert.equal(record.outcome, 'restored');
          assert.equal((await left()).length, 1, 'the failed state kept, no copy left');
        } else {
          assert.equal(done.code, 17, done.stdout + done.stderr);
          assert.match(done.json.error.message, /SIGTERM before the swap/);
          assert.equal(record.outcome, 'failed');
          assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0, 'the failed state, whole');
          assert.deepEqual(await left(), [], 'the copy dropped, nothing kept');
        }
      }));
    }

    it('SIGKILL once the record says swapping: status and resolve-restore find each database whole in one state or the other', (t) => withScenario(engine.server(), async (sc, left) => {
      const omBefore = await snapshot(sc.om);
      const run = startCli(sc, ['up', '--restore-on-failure', '--json'], FAIL);
      live.push(run);
      // Polled tightly: the swap is one statement, the window is milliseconds.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !restoreRecord(sc)?.databases.some((d: { phase: string }) => d.phase === 'swapping' || d.phase === 'swapped')) {
        await new Promise((r) => setTimeout(r, 2));
      }
      killHard(run);
      await run.done;
      const record = restoreRecord(sc)!;
      if (record.outcome !== 'running') {
        t.diagnostic(`the run had finished (${record.outcome}) before the SIGKILL landed`);
        return;
      }
      const status = await runCli(sc, ['status', '--json']);
      const state = status.json.result.cutOffRestores[0].databases[0].state;
      t.diagnostic(`SIGKILL at ${record.databases[0].phase}: ${state}`);
      const resolved = await runCli(sc, ['resolve-restore', '--json']);
      assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
      assert.equal(resolved.json.result.resolved[0].databases[0].state, state);
      if (state === 'restored') {
        assert.deepEqual(await snapshot(sc.om), omBefore, 'restored whole');
        assert.equal((await left()).length, 1, 'only the kept failed state is left');
      } else {
        assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0, 'the failed state whole');
        assert.deepEqual(await left(), []);
      }
      assert.deepEqual((await runCli(sc, ['status', '--json'])).json.result.cutOffRestores, []);
    }));

    it('SIGKILL during the restore: status says each database\'s state, up refuses until resolve-restore settles it', () => withScenario(engine.server(), async (sc, left) => {
      const run = startCli(sc, ['up', '--restore-on-failure', '--json'], FAIL);
      live.push(run);
      await waitFor('the restore to begin', () => restoreRecord(sc)?.databases.some((d: { phase: string }) => d.phase === 'restoring'), 60_000);
      killHard(run);
      await run.done;
      assert.equal(restoreRecord(sc)!.outcome, 'running', 'cut off');
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      const cut = status.json.result.cutOffRestores;
      assert.equal(cut.length, 1);
      assert.equal(cut[0].databases[0].state, 'failed-state');
      assert.match(cut[0].databases[0].text, new RegExp(`${sc.om.name} is as the failed run left it`));
      const text = await runCli(sc, ['status']);
      assert.match(text.stdout, /up refuses until it is settled: run om-migrate resolve-restore/);
      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 4, up.stdout + up.stderr);
      assert.match(up.json.error.message, /was cut off/);
      assert.match(up.json.error.hint, /om-migrate resolve-restore/);
      const resolved = await runCli(sc, ['resolve-restore', '--json']);
      assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
      assert.equal(resolved.json.result.resolved[0].databases[0].state, 'failed-state');
      assert.deepEqual(await left(), [], 'the half-made copy dropped');
      assert.equal(await rowsOf(sc.server, sc.om.name, 'team_entity'), 0, 'the failed state untouched');
      const after = await runCli(sc, ['status', '--json']);
      assert.deepEqual(after.json.result.cutOffRestores, []);
      const preflight = await runCli(sc, ['preflight', '--json']);
      assert.ok(!preflight.json.result.findings.some((f: { gate: string }) => f.gate === 'restore-cut-off'));
    }));
  });
}

for (const server of SERVERS) {
  describe(`the swap's privilege check: ${server.engine}`, () => {
    it('the application user may not swap (no global CREATE/DROP, or no CREATEDB); the superuser may', async () => {
      const db = await createScratchDatabase(server, 'omm_swapcheck');
      try {
        const app = await connect(db.appSpec);
        const root = await connect(server.admin);
        try {
          const denied = await app.swap.canSwap(db.name);
          assert.equal(denied.ok, false);
          assert.match(denied.summary, server.engine === 'mysql' ? /lacks ALTER, DROP, CREATE, INSERT on \*\.\*/ : /lacks CREATEDB/);
          assert.equal((await root.swap.canSwap(db.name)).ok, true);
        } finally {
          await app.close();
          await root.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
