import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { runPreflight, type PreflightReport } from '../../src/api/preflight.js';
import { repairAirflow } from '../../src/api/repairAirflow.js';
import { resolveConfig, type ConfigInput } from '../../src/config/resolveConfig.js';
import type { Finding } from '../../src/core/Gate.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { OmMigrateError } from '../../src/errors.js';
import { createAirflowSchema, rowCounts, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import {
  PYTHON, STANDIN_SCRIPT, controlsEnv, createDagTable, sqlAlchemyUrl, standInCommandLine, startPythonAirflow,
} from '../fixtures/airflow/python/pythonAirflow.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';
import { airflowRevision } from '../helpers/upHarness.js';
import { cleanEnv, runCli as runBuiltCli } from '../helpers/cli.js';
import { runCli, upTestServers } from '../helpers/upHarness.js';
import { SERVERS, createScratchDatabase, type ScratchDatabase, type TestServer } from '../helpers/servers.js';

/**
 * Issue 11: what d59cbbef95eb fails on is caught before it runs, Airflow's own migration is never raced, the result of
 * Airflow's migrator is checked, PostgreSQL's other uuid_generate_v7 and pgcrypto are left alone, and URLs are read as
 * SQLAlchemy reads them. Real servers; Airflow's migration is the Python stand-in under Debian's drivers.
 */

const ROWS = 30;
const KEY = 'dag_id, task_id, run_id, map_index';
const BACKUP_DIR = mkdtempSync(join(tmpdir(), 'omm-af11-backups-'));
after(() => rmSync(BACKUP_DIR, { recursive: true, force: true }));

interface AirflowDb {
  db: ScratchDatabase;
  app: Dialect;
  url(driver?: 'mysqldb' | 'pymysql' | 'psycopg2', query?: string): string;
  config(input?: ConfigInput, url?: string): ReturnType<typeof resolveConfig>;
  cleanup(): Promise<void>;
}

async function airflowDb(server: TestServer, options: { seesOtherSessions?: boolean } = { seesOtherSessions: true }): Promise<AirflowDb> {
  const db = await createScratchDatabase(server, 'omm_af11', options);
  const app = await connect(db.appSpec);
  await createAirflowSchema(app, server.engine);
  await seedTaskInstances(app, server.engine, ROWS);
  await createDagTable(app.knex, server.engine);
  const url = (driver?: 'mysqldb' | 'pymysql' | 'psycopg2', query?: string) => sqlAlchemyUrl(db.appSpec, driver, query);
  return {
    db, app, url,
    config: (input = {}, u = url()) => resolveConfig({ airflowUrl: u, backupDir: BACKUP_DIR, ...input }, cleanEnv(), { command: 'repair-airflow' }),
    async cleanup() {
      await app.close();
      await db.drop();
    },
  };
}

const rowsOf = (engine: string, result: unknown): Record<string, unknown>[] =>
  (engine === 'mysql' ? (result as [Record<string, unknown>[]])[0] : (result as { rows: Record<string, unknown>[] }).rows);

/** An orphan row: written with foreign key checks off for this session only (the superuser's, on PostgreSQL). */
async function insertOrphan(af: AirflowDb, engine: string, table: 'task_map' | 'xcom'): Promise<void> {
  const values = table === 'task_map'
    ? `INSERT INTO task_map (${KEY}, length) VALUES ('gone_dag', 'gone_task', 'gone_run', -1, 0)`
    : `INSERT INTO xcom (dag_run_id, task_id, map_index, ${engine === 'mysql' ? '`key`' : 'key'}, dag_id, run_id, value, timestamp)
       VALUES (1, 'gone_task', -1, 'return_value', 'gone_dag', 'gone_run', NULL, ${engine === 'mysql' ? 'NOW(6)' : 'now()'})`;
  if (engine === 'mysql') {
    await af.app.knex.raw('SET SESSION foreign_key_checks = 0');
    await af.app.knex.raw(values);
    await af.app.knex.raw('SET SESSION foreign_key_checks = 1');
  } else {
    await af.db.root.knex.raw('SET session_replication_role = replica');
    await af.db.root.knex.raw(values);
    await af.db.root.knex.raw('SET session_replication_role = DEFAULT');
  }
}

/** d59cbbef95eb's steps 1–6 done by hand (MySQL leaves this after a crash; PostgreSQL only by hand): no key at all. */
async function halfAppliedWithoutKeys(af: AirflowDb, engine: string): Promise<void> {
  const k = af.app.knex;
  if (engine === 'mysql') {
    await k.raw('ALTER TABLE task_instance ADD COLUMN id VARCHAR(36) NULL');
    for (const [table, fk] of [['rendered_task_instance_fields', 'rtif_ti_fkey'], ['task_fail', 'task_fail_ti_fkey'],
      ['task_instance_history', 'task_instance_history_ti_fkey'], ['task_instance_note', 'task_instance_note_ti_fkey'],
      ['task_map', 'task_map_task_instance_fkey'], ['task_reschedule', 'task_reschedule_ti_fkey'], ['xcom', 'xcom_task_instance_fkey']]) {
      await k.raw(`ALTER TABLE ${table} DROP FOREIGN KEY ${fk}`);
    }
    await k.raw('ALTER TABLE task_instance DROP PRIMARY KEY');
  } else {
    await k.raw('ALTER TABLE task_instance ADD COLUMN id uuid NULL');
    await k.raw('ALTER TABLE task_instance DROP CONSTRAINT task_instance_pkey CASCADE');
  }
}

const findings = (r: PreflightReport, gate: string): Finding[] => r.findings.filter((f) => f.gate === gate);
const isCode = (code: string, message?: RegExp) => (e: unknown) =>
  e instanceof OmMigrateError && e.code === code && (!message || message.test(e.message));

for (const server of SERVERS) {
  describe(`issue 11 on ${server.label}`, () => {
    it('orphans: preflight blocks with the counts and the listing query; repair-airflow --delete-orphans deletes them after a backup', async () => {
      const af = await airflowDb(server);
      try {
        const clean = await runPreflight(af.config());
        assert.equal(findings(clean, 'airflow-integrity')[0]?.severity, 'ok', JSON.stringify(findings(clean, 'airflow-integrity')));
        await insertOrphan(af, server.engine, 'task_map');
        await insertOrphan(af, server.engine, 'xcom');
        const counts = await rowCounts(af.app);
        const report = await runPreflight(af.config());
        const [block] = findings(report, 'airflow-integrity');
        assert.equal(block?.severity, 'block', JSON.stringify(report.findings, null, 1));
        assert.match(block.summary, /task_map 1 \(task_map_task_instance_fkey\), xcom 1 \(xcom_task_instance_fkey\)/);
        assert.match(block.fix ?? '', /repair-airflow --delete-orphans --yes/);
        assert.deepEqual((block.data?.orphans as Record<string, number>).task_map, 1);
        // The query the operator is given lists exactly the orphans.
        const queries = block.data?.queries as Record<string, string>;
        assert.ok(block.fix?.includes(queries.task_map));
        const listed = rowsOf(server.engine, await af.app.knex.raw(queries.task_map));
        assert.deepEqual(listed.map((r) => r.task_id), ['gone_task']);

        await assert.rejects(repairAirflow(af.config()), isCode('BLOCKED', /2 rows .* point at no task instance/));
        await assert.rejects(repairAirflow(af.config(), { deleteOrphans: true }), isCode('USAGE', /--yes/));
        assert.deepEqual(await rowCounts(af.app), counts, 'nothing deleted without --yes');
        const done = await repairAirflow(af.config({ yes: true }), { deleteOrphans: true });
        assert.equal(done.dryRun, false);
        if (done.dryRun) return;
        assert.ok(done.backup && existsSync(done.backup), 'a verified backup first');
        assert.deepEqual(done.plan.actions.map((a) => a.id), ['delete-orphans', 'delete-orphans']);
        assert.deepEqual(await rowCounts(af.app), { ...counts, task_map: counts.task_map - 1, xcom: counts.xcom - 1 });
        const again = await runPreflight(af.config());
        assert.equal(findings(again, 'airflow-integrity')[0]?.severity, 'ok');
      } finally {
        await af.cleanup();
      }
    });

    it('duplicate task keys on a half-applied database: preflight blocks with the query; the repair refuses before changing anything', async () => {
      const af = await airflowDb(server);
      try {
        await halfAppliedWithoutKeys(af, server.engine);
        await af.app.knex.raw(`INSERT INTO task_instance (${KEY}, pool, pool_slots, state)
          SELECT ${KEY}, pool, pool_slots, 'queued' FROM task_instance WHERE task_id = 'task_1'`);
        const report = await runPreflight(af.config());
        const dup = findings(report, 'airflow-integrity').find((f) => f.data?.duplicateKeys !== undefined);
        assert.equal(dup?.severity, 'block', JSON.stringify(report.findings, null, 1));
        assert.equal(dup.data?.duplicateKeys, 1);
        assert.equal(dup.data?.duplicateRows, 2);
        const listed = rowsOf(server.engine, await af.app.knex.raw(String(dup.data?.query)));
        assert.deepEqual(listed.map((r) => [r.task_id, Number(r.copies)]), [['task_1', 2]]);
        const before = await detectAirflowState(af.app);
        await assert.rejects(repairAirflow(af.config({ yes: true })), isCode('BLOCKED', /1 \(dag_id, task_id, run_id, map_index\) keys are held by 2/));
        assert.deepEqual((await detectAirflowState(af.app)).damage, before.damage, 'no repair statement ran');
      } finally {
        await af.cleanup();
      }
    });

    it('never races Airflow\'s migrator: its lock held by another session blocks repair-airflow and preflight, naming the session', async () => {
      const af = await airflowDb(server);
      try {
        // A half-applied state for repair-airflow to want to fix.
        await af.app.knex.raw('UPDATE alembic_version SET version_num = \'d59cbbef95eb\'');
        // Held from another connection exactly as `airflow db migrate` holds it (docs/facts/airflow.md).
        const holder = await connect(af.db.appSpec);
        try {
          // MySQL's lock name is server-wide: another test file's stand-in may hold it for its own database for a moment
          // (and then, rightly, it does not block this one), so wait for it and make sure this session is the holder.
          const taken = server.engine === 'mysql'
            ? rowsOf('mysql', await holder.knex.raw("SELECT GET_LOCK('airflow_MIGRATIONS', 60) AS got, CONNECTION_ID() AS id"))[0]
            : { ...rowsOf('postgres', await holder.knex.raw('SELECT pg_advisory_lock(1), pg_backend_pid() AS id'))[0], got: 1 };
          assert.equal(Number(taken.got), 1, 'this test\'s session holds Airflow\'s migration lock');
          const holderId = String(taken.id);
          await assert.rejects(repairAirflow(af.config({ yes: true })),
            isCode('MIGRATION_RUNNING', new RegExp(`migration lock is held.*session ${holderId}\\b`)));
          const report = await runPreflight(af.config());
          const running = findings(report, 'running-migrator').find((f) => f.severity === 'block');
          assert.match(running?.summary ?? '', new RegExp(`session ${holderId}\\b`));
        } finally {
          await holder.close();
        }
      } finally {
        await af.cleanup();
      }
    });

    it('never races: the stand-in sleeping inside d59cbbef95eb (holding Airflow\'s lock) blocks repair-airflow', async () => {
      const af = await airflowDb(server);
      try {
        const migrator = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url(), ...controlsEnv({ sleepAtStep: 3, sleepSeconds: 8 }) });
        await migrator.waitFor(/sleeping 8s before step 3 of d59cbbef95eb/);
        await assert.rejects(repairAirflow(af.config({ yes: true })), isCode('MIGRATION_RUNNING', /airflow db migrate is running/));
        const report = await runPreflight(af.config());
        assert.ok(findings(report, 'running-migrator').some((f) => f.severity === 'block'));
        const r = await migrator.done;
        assert.equal(r.exitCode, 0, r.stderr);
      } finally {
        await af.cleanup();
      }
    });

    it('re-checks the shape before each repair statement: a key another session restored stops the repair, not a failed ALTER', async () => {
      const af = await airflowDb(server);
      try {
        await halfAppliedWithoutKeys(af, server.engine);
        await af.app.knex.raw('UPDATE alembic_version SET version_num = \'d59cbbef95eb\'');
        const plan = planRepair(await detectAirflowState(af.app), af.app.airflowRepair, { backupVerified: true });
        assert.equal(plan.actions[0].id, 'restore-primary-key');
        // As when a killed client's ALTER finishes on the server after the plan was made.
        await af.db.root.knex.raw(`ALTER TABLE task_instance ADD PRIMARY KEY (${KEY})`);
        const before = await detectAirflowState(af.app);
        await assert.rejects(runRepair(af.app, plan), isCode('BLOCKED', /changed while the repair ran/));
        assert.deepEqual((await detectAirflowState(af.app)).damage, before.damage);
      } finally {
        await af.cleanup();
      }
    });
  });
}

const mysql = SERVERS.find((s) => s.engine === 'mysql')!;

describe('issue 11: MySQL lock names are server-wide', () => {
  it('a holder of airflow_MIGRATIONS this user cannot see (another user, no PROCESS) still blocks the repair: it may be this database\'s', async () => {
    const af = await airflowDb(mysql, { seesOtherSessions: false });
    // root, on another database: with PROCESS this user would see it busy elsewhere and go on (the next test).
    const holder = await connect({ ...mysql.admin, database: 'test' });
    try {
      await af.app.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
      assert.equal(rowsOf('mysql', await holder.knex.raw("SELECT GET_LOCK('airflow_MIGRATIONS', 5) AS got"))[0].got, 1);
      await assert.rejects(repairAirflow(af.config({ yes: true }), { backup: false }), isCode('MIGRATION_RUNNING', /airflow_MIGRATIONS|migration lock/));
      assert.equal((await detectAirflowState(af.app)).facts.revision, 'd59cbbef95eb', 'nothing was repaired');
    } finally {
      await holder.close();
      await af.cleanup();
    }
  });

  it('another database\'s airflow db migrate holding airflow_MIGRATIONS on the same server does not block this database\'s repair', async () => {
    const af = await airflowDb(mysql);
    const other = await createScratchDatabase(mysql, 'omm_af11_other');
    // The same user on both databases, so that it may see the holder's session (without PROCESS, a session of another
    // user is invisible, and an invisible holder still counts).
    for (const host of ['%', 'localhost']) {
      await other.root.knex.raw(`GRANT ALL PRIVILEGES ON \`${other.name}\`.* TO '${af.db.appSpec.user}'@'${host}'`);
    }
    const holder = await connect({ ...af.db.appSpec, database: other.name });
    try {
      await af.app.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
      assert.equal(rowsOf('mysql', await holder.knex.raw("SELECT GET_LOCK('airflow_MIGRATIONS', 5) AS got"))[0].got, 1);
      const done = await repairAirflow(af.config({ yes: true }), { backup: false });
      assert.equal(done.dryRun, false);
      assert.equal((await detectAirflowState(af.app)).kind, 'healthy-before');
    } finally {
      await holder.close();
      await other.drop();
      await af.cleanup();
    }
  });
});

describe('issue 11: repair-airflow --delete-orphans on the command line', () => {
  it('blocked (exit 4) with the flag named; --delete-orphans without --yes is a usage error (exit 2); with --yes it backs up and deletes', async () => {
    const af = await airflowDb(mysql);
    try {
      await insertOrphan(af, 'mysql', 'task_map');
      const cli = (...args: string[]) => runBuiltCli(['repair-airflow', '--airflow-url', af.url(), '--backup-dir', BACKUP_DIR, '--json', ...args]);
      const blocked = await cli();
      assert.equal(blocked.code, 4, blocked.stdout + blocked.stderr);
      assert.match(JSON.parse(blocked.stdout).error.hint, /--delete-orphans --yes/);
      const noYes = await cli('--delete-orphans');
      assert.equal(noYes.code, 2, noYes.stdout + noYes.stderr);
      const done = await cli('--delete-orphans', '--yes');
      assert.equal(done.code, 0, done.stdout + done.stderr);
      const result = JSON.parse(done.stdout).result;
      assert.deepEqual(result.actions.map((a: { id: string }) => a.id), ['delete-orphans']);
      assert.ok(existsSync(result.backup));
      assert.equal(await af.app.airflow.orphanCount('task_map'), 0);
    } finally {
      await af.cleanup();
    }
  });
});
const postgres = SERVERS.find((s) => s.engine === 'postgres')!;

describe('issue 11: the Airflow URL\'s MySQL driver', () => {
  it('mysql+pymysql and multi_statements=false block, citing the 1.6.4 note; mysql+mysqldb passes once its driver is asked', async () => {
    const af = await airflowDb(mysql);
    try {
      const driver = async (url: string) => findings(await runPreflight(af.config({}, url)), 'airflow-driver');
      const [pymysql] = await driver(af.url('pymysql'));
      assert.equal(pymysql.severity, 'block');
      assert.match(pymysql.summary, /mysql\+pymysql.*1064/);
      assert.match(pymysql.fix ?? '', /mysql\+mysqldb.*1\.6\.4/);
      const [off] = await driver(af.url('mysqldb', 'multi_statements=false'));
      assert.equal(off.severity, 'block');
      // Airflow's driver cannot be asked here (no `airflow` on PATH): mysqlclient is the right driver, but only 2.x runs
      // multi-statements, so the URL alone is a warning (issue 25). Asked through the stand-in (2.x's behaviour): ok.
      const [unasked] = await driver(af.url('mysqldb'));
      assert.equal(unasked.severity, 'warn');
      assert.match(unasked.summary, /not asked/);
      const [asked] = findings(await runPreflight(af.config({ airflowMigrator: standInCommandLine() }, af.url('mysqldb'))), 'airflow-driver');
      assert.equal(asked.severity, 'ok', JSON.stringify(asked));
      // The migration itself under PyMySQL fails with 1064: test/integration/airflowPythonStandIn.test.ts, case (d).
    } finally {
      await af.cleanup();
    }
  });
});

describe('issue 11: PostgreSQL functions and extensions that are not Airflow\'s to drop', () => {
  it('another uuid_generate_v7, and a user\'s with Airflow\'s exact signature, survive detection and repair; pgcrypto is reported and left', async () => {
    const af = await airflowDb(postgres);
    try {
      const k = af.app.knex;
      // pg_uuidv7's shape: no argument. Not Airflow's, so a healthy database stays healthy.
      await k.raw('CREATE FUNCTION uuid_generate_v7() RETURNS uuid LANGUAGE sql AS $$ SELECT gen_random_uuid() $$');
      await k.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
      assert.equal((await detectAirflowState(af.app)).kind, 'healthy-before');
      // A user's function with Airflow's exact signature, and a stamp that makes the database half-applied. Nothing
      // proves it is d59cbbef95eb's (on PostgreSQL the migration's function cannot outlive its transaction): it is not
      // a "leftover", the repair leaves it, and preflight says that Airflow's own migration will replace it (issue 25).
      await k.raw(`CREATE FUNCTION uuid_generate_v7(p_timestamp timestamp with time zone) RETURNS uuid LANGUAGE sql
        AS $$ SELECT gen_random_uuid() $$`);
      await k.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
      const report = await runPreflight(af.config());
      const pgcrypto = findings(report, 'airflow-state').find((f) => f.data?.pgcrypto !== undefined);
      assert.equal(pgcrypto?.severity, 'ok');
      assert.match(pgcrypto.fix ?? '', /leaves it/);
      const foreign = findings(report, 'airflow-state').find((f) => f.data?.code === 'foreign-uuid-function');
      assert.equal(foreign?.severity, 'warn');
      assert.match(foreign!.summary, /CREATE OR REPLACE FUNCTION/);
      const done = await repairAirflow(af.config({ yes: true }), { backup: false });
      assert.equal(done.dryRun, false);
      assert.deepEqual(done.plan.actions.map((a) => a.id), ['stamp-revision']);
      const left = rowsOf('postgres', await k.raw(`SELECT oid::regprocedure::text AS f FROM pg_proc WHERE proname = 'uuid_generate_v7' ORDER BY 1`));
      assert.deepEqual(left.map((r) => r.f), ['uuid_generate_v7()', 'uuid_generate_v7(timestamp with time zone)']);
      const ext = rowsOf('postgres', await k.raw("SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'"));
      assert.equal(ext.length, 1);
    } finally {
      await af.cleanup();
    }
  });
});

describe('issue 11: URLs as SQLAlchemy reads them', () => {
  it('MySQL ?unix_socket= with host localhost and a closed port: om-migrate goes through the socket', async () => {
    const af = await airflowDb(mysql);
    try {
      const socket = String(rowsOf('mysql', await af.db.root.knex.raw('SELECT @@socket AS s'))[0].s);
      const { user, password, database } = af.db.appSpec;
      const url = `mysql+mysqldb://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@localhost:1/${database}`
        + `?unix_socket=${encodeURIComponent(socket)}`;
      const config = af.config({}, url);
      assert.equal(config.airflow?.host, socket);
      const report = await runPreflight(config);
      assert.equal(findings(report, 'connection').find((f) => f.target === 'airflow')?.severity, 'ok', JSON.stringify(report.findings, null, 1));
      assert.match(findings(report, 'airflow-state')[0]?.summary ?? '', /revision 05234396c6fc.*healthy/);
    } finally {
      await af.cleanup();
    }
  });

  it('PostgreSQL ?host=/socket/dir with an empty host and options=-csearch_path%3Dairflow: that schema is inspected and om-migrate\'s tables go there', async () => {
    const db = await createScratchDatabase(postgres, 'omm_af11');
    const app = await connect(db.appSpec);
    try {
      await app.knex.raw('CREATE SCHEMA airflow');
      await app.knex.raw('SET search_path TO airflow');
      await createAirflowSchema(app, 'postgres');
      await seedTaskInstances(app, 'postgres', ROWS);
      await app.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
      const { user, password, database } = db.appSpec;
      const url = `postgresql+psycopg2://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@/${database}`
        + '?host=/var/run/postgresql&options=-csearch_path%3Dairflow';
      const config = resolveConfig({ airflowUrl: url, backupDir: BACKUP_DIR, yes: true }, cleanEnv(), { command: 'repair-airflow' });
      assert.equal(config.airflow?.host, '/var/run/postgresql');
      const report = await runPreflight(config);
      const state = findings(report, 'airflow-state')[0];
      assert.equal(state?.data?.kind, 'half-applied', JSON.stringify(report.findings, null, 1));
      const done = await repairAirflow(config, { backup: false });
      assert.equal(done.dryRun, false);
      const own = rowsOf('postgres', await app.knex.raw(
        "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_name LIKE 'om\\_migrate%' ORDER BY 1, 2"));
      assert.ok(own.length > 0, 'repair-airflow keeps its lock holder row in a table of its own');
      assert.deepEqual([...new Set(own.map((r) => r.s))], ['airflow'], JSON.stringify(own));
      const publicTables = rowsOf('postgres', await app.knex.raw("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"));
      assert.equal(publicTables.length, 0);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe('issue 11: up checks what Airflow\'s migrator produced', () => {
  const { engines, scenario } = upTestServers();
  const binlogEngine = engines.find((e) => /MariaDB/.test(e.label))!;
  const pgEngine = engines.find((e) => /PostgreSQL/.test(e.label))!;
  let sc: Awaited<ReturnType<typeof scenario>>;
  before(async () => {
    sc = await scenario(binlogEngine.server());
  });

  it('an airflow db migrate started after preflight (during the OpenMetadata step) stops up before its Airflow step: exit 5, no race', async () => {
    const pgSc = await scenario(pgEngine.server());
    const work = mkdtempSync(join(tmpdir(), 'omm-af11-race-'));
    try {
      const log = join(work, 'airflow.log');
      const pidFile = join(work, 'airflow.pid');
      // The OpenMetadata migrator of this run first starts an ingestion container's `airflow db migrate` of its own (the
      // stand-in, in its own session so that up's step supervision does not end it), waits until it holds Airflow's
      // lock inside d59cbbef95eb, then migrates OpenMetadata as shipped.
      const om = `(AIRFLOW_STANDIN_SLEEP_AT_STEP=3 AIRFLOW_STANDIN_SLEEP_SECONDS=20 PYTHONDONTWRITEBYTECODE=1 setsid ${PYTHON} ${STANDIN_SCRIPT} db migrate`
        + ` > ${log} 2>&1 & echo $! > ${pidFile}); while ! grep -q 'sleeping 20s before step 3' ${log}; do kill -0 "$(cat ${pidFile})" 2>/dev/null || exit 1; sleep 0.2; done;`
        + ' ./bootstrap/openmetadata-ops.sh migrate';
      const run = await runCli(pgSc, ['up', '--json'], { OM_MIGRATE_OM_COMMAND: om });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.equal(run.code, 5, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'MIGRATION_RUNNING');
      assert.match(run.json.error.message, /Airflow's migration lock is held: an airflow db migrate is running \(session \d+/);
      assert.match(run.json.error.message, /not starting airflow db migrate/);
      // The other migrator is left alone to finish; it, not om-migrate, brings Airflow to the head.
      for (;;) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(250);
      }
      assert.match(readFileSync(log, 'utf8'), /Database migrating done!/);
      assert.equal(await airflowRevision(pgSc), AIRFLOW_HEAD);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('ids malformed by a 3.0.0–3.0.5 migrator (#54554): the summary says "needs action" with the fixing command, never just "migrated"; exit 15', async () => {
    const run = await runCli(sc, ['up', '--json'], { AIRFLOW_STANDIN_MALFORMED_IDS: '1' });
    // Done, but not all clear: 15 (NEEDS_ACTION), never 0, so that automation does not read it as finished.
    assert.equal(run.code, 15, run.stderr);
    assert.equal(run.json.exitCode, 15);
    const result = run.json.result;
    assert.deepEqual((result.needsAction as Finding[]).map((f) => f.data?.code), ['malformed-ids']);
    assert.match(result.message, /^needs action \(\d+ task_instance ids are malformed \(apache\/airflow#54554\): .*repair-airflow --fix-malformed-ids/);
    const warn = (result.warnings as Finding[]).find((w) => w.data?.code === 'malformed-ids');
    assert.ok(warn && warn.fix?.includes('om-migrate repair-airflow --fix-malformed-ids'));
    const step = (result.steps as Array<{ name: string; detail: string }>).find((s) => s.name === 'airflow/db-migrate');
    assert.match(step?.detail ?? '', /NOT clean/);
  });
});
