import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { createAirflowSchema, rowCounts, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import {
  AIRFLOW_DB_MIGRATE, KILLED_EXIT_CODE, PYTHON, STANDIN_SCRIPT, MYSQLCLIENT2_DIR, controlsEnv, createDagTable, runPythonAirflow,
  sqlAlchemyUrl, startPythonAirflow, type StandInControls, type StandInResult,
} from '../fixtures/airflow/python/pythonAirflow.js';
import { startBinlogMariadb, type BinlogMariadb } from '../helpers/binlogMariadb.js';
import { SERVERS, createScratchDatabase, type ScratchDatabase, type TestServer } from '../helpers/servers.js';

/**
 * The Python stand-in for `airflow db migrate` (test/fixtures/airflow/python) against real servers: every error
 * asserted here is raised by mysqlclient, PyMySQL or psycopg2 talking to MariaDB or PostgreSQL.
 *
 * MySQL cases run on a throw-away MariaDB with binary logging started by this file: GET_LOCK names are server-wide,
 * and log_bin_trust_function_creators is a global, so neither may be touched on the machine's shared server.
 */

type Engine = 'mysql' | 'postgres';

const ROWS = 40;
const HEAD = '486ac7936b78';
const BEFORE = '05234396c6fc';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Airflow 3.0.0-3.0.5 on MySQL (apache/airflow#54554): "0198ad8b-87b4-bb14-70de-b05a87b2". */
const MALFORMED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{8}$/;
const FOREIGN_KEYS = ['rtif_ti_fkey', 'task_fail_ti_fkey', 'task_instance_history_ti_fkey', 'task_instance_note_ti_fkey',
  'task_map_task_instance_fkey', 'task_reschedule_ti_fkey', 'xcom_task_instance_fkey'];

interface Spec { engine: Engine; host: string; port: number; user: string; password?: string; database: string }

function openKnex(spec: Spec): Knex {
  return knexFactory({
    client: spec.engine === 'mysql' ? 'mysql2' : 'pg',
    connection: { host: spec.host, port: spec.port, user: spec.user, password: spec.password, database: spec.database },
    pool: { min: 1, max: 1 },
  });
}

const rowsOf = (result: unknown, engine: Engine): Record<string, unknown>[] =>
  (engine === 'mysql' ? (result as [Record<string, unknown>[]])[0] : (result as { rows: Record<string, unknown>[] }).rows);

async function query(k: Knex, engine: Engine, sql: string, bindings: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
  return rowsOf(await k.raw(sql, bindings as Knex.RawBinding[]), engine);
}

/** What a test needs to know about task_instance after a run. */
interface Shape {
  revision: string | undefined;
  hasId: boolean;
  primaryKey: string[];
  compositeKey: boolean;
  foreignKeys: string[];
}

async function shapeOf(k: Knex, engine: Engine, schema?: string): Promise<Shape> {
  const s = schema ? `'${schema}'` : engine === 'mysql' ? 'DATABASE()' : 'current_schema()';
  const q = (sql: string) => query(k, engine, sql);
  const revision = (await q(`SELECT version_num AS v FROM ${schema ? `${schema}.` : ''}alembic_version`))[0]?.v as string | undefined;
  const hasId = (await q(`SELECT 1 AS x FROM information_schema.columns WHERE table_schema = ${s}
    AND table_name = 'task_instance' AND column_name = 'id'`)).length === 1;
  const constraint = (type: string) => q(`SELECT k.constraint_name AS name, k.column_name AS col
    FROM information_schema.table_constraints c JOIN information_schema.key_column_usage k
      ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema AND k.table_name = c.table_name
    WHERE c.table_schema = ${s} AND c.table_name = 'task_instance' AND c.constraint_type = '${type}'
    ORDER BY k.ordinal_position`);
  const primaryKey = (await constraint('PRIMARY KEY')).map((r) => String(r.col));
  const compositeKey = (await constraint('UNIQUE')).some((r) => r.name === 'task_instance_composite_key');
  const foreignKeys = engine === 'mysql'
    ? (await q(`SELECT constraint_name AS name FROM information_schema.referential_constraints
        WHERE constraint_schema = DATABASE() AND referenced_table_name = 'task_instance' ORDER BY 1`)).map((r) => String(r.name))
    : (await q(`SELECT conname AS name FROM pg_constraint WHERE contype = 'f'
        AND confrelid = to_regclass('${schema ? `${schema}.` : ''}task_instance') ORDER BY 1`)).map((r) => String(r.name));
  return { revision, hasId, primaryKey, compositeKey, foreignKeys };
}

const PRISTINE: Omit<Shape, 'revision'> = {
  hasId: false, primaryKey: ['dag_id', 'task_id', 'run_id', 'map_index'], compositeKey: false, foreignKeys: FOREIGN_KEYS,
};
const MIGRATED: Omit<Shape, 'revision'> = { hasId: true, primaryKey: ['id'], compositeKey: true, foreignKeys: FOREIGN_KEYS };

/** A scratch Airflow database at 05234396c6fc (plus the dag table 486ac7936b78 needs), built by its own user. */
interface AirflowDb {
  db: ScratchDatabase;
  app: Knex;
  engine: Engine;
  url(driver?: 'mysqldb' | 'pymysql' | 'psycopg2'): string;
  migrate(controls?: StandInControls, args?: string[], driver?: 'mysqldb' | 'pymysql'): Promise<StandInResult>;
  shape(): Promise<Shape>;
  ids(): Promise<string[]>;
  cleanup(): Promise<void>;
}

async function airflowDb(server: TestServer, rows = ROWS): Promise<AirflowDb> {
  const db = await createScratchDatabase(server, 'omm_afpy', { seesOtherSessions: true });
  const engine = server.engine;
  const app = openKnex(db.appSpec);
  await createAirflowSchema(app, engine);
  await seedTaskInstances(app, engine, rows);
  await createDagTable(app, engine);
  const url = (driver?: 'mysqldb' | 'pymysql' | 'psycopg2') => sqlAlchemyUrl(db.appSpec, driver);
  return {
    db, app, engine, url,
    migrate: (controls = {}, args = ['db', 'migrate'], driver) =>
      runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: url(driver), ...controlsEnv(controls) }, args),
    shape: () => shapeOf(app, engine),
    ids: async () => (await query(app, engine, 'SELECT id FROM task_instance ORDER BY 1')).map((r) => String(r.id)),
    async cleanup() {
      await app.destroy();
      await db.drop();
    },
  };
}

const check = (af: AirflowDb) => af.migrate({}, ['db', 'check-migrations', '-t', '1']);

function explain(r: StandInResult): string {
  return `exit ${r.exitCode} signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** The last line of the traceback: the exception Airflow's CLI dies with. */
function finalError(r: StandInResult): string {
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(Background on this error') && !l.startsWith('[SQL:'));
  return lines.filter((l) => /^\S+(Error|Exception|Violation|NotAvailable)\b|^\w+\.\w+.*: /.test(l)).at(-1) ?? '';
}

describe('Python stand-in: the command line', () => {
  it('is env PYTHONPATH=<mysqlclient2> /usr/bin/python3 <abs path>/airflow_standin.py db migrate, and Debian\'s packages import', async () => {
    assert.equal(PYTHON, process.env.OM_MIGRATE_TEST_PYTHON ?? '/usr/bin/python3');
    assert.equal(AIRFLOW_DB_MIGRATE, `env PYTHONPATH=${MYSQLCLIENT2_DIR} ${PYTHON} ${STANDIN_SCRIPT} db migrate`);
    assert.match(STANDIN_SCRIPT, /^\/.*\/test\/fixtures\/airflow\/python\/airflow_standin\.py$/);
    const r = await runPythonAirflow({}, ['--help']);
    assert.equal(r.exitCode, 0, explain(r));
    const { spawnSync } = await import('node:child_process');
    const probe = spawnSync(PYTHON, ['-c', 'import alembic, sqlalchemy, MySQLdb, psycopg2, pymysql; '
      + 'print(alembic.__version__, sqlalchemy.__version__, ".".join(map(str, MySQLdb.version_info[:3])))'], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /^1\.\d+\.\d+ 1\.4\.\d+ \d+\.\d+\.\d+/);
  });

  it('refuses to run without a database URL, as no Airflow setting would lead it to one', async () => {
    const r = await runPythonAirflow({});
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is not set/);
  });
});

describe('Python stand-in on MariaDB with binary logging (throw-away server)', () => {
  let binlog: BinlogMariadb;
  let root: Knex;
  const rootQuery = (sql: string) => query(root, 'mysql', sql);

  before(async () => {
    binlog = await startBinlogMariadb();
    root = openKnex({ ...binlog.server.admin, engine: 'mysql' });
  });

  after(async () => {
    await root?.destroy();
    await binlog?.stop();
  });

  it('(a) ordinary user: 1419 at CREATE FUNCTION (logged, swallowed), 1305 at the UPDATE; 1060 on a re-run; done once trusted', async () => {
    const af = await airflowDb(binlog.server);
    try {
      assert.equal(Number((await rootQuery('SELECT @@log_bin AS b'))[0].b), 1);
      const first = await af.migrate();
      assert.equal(first.exitCode, 1, explain(first));
      // mysqlclient reports the second statement's error when SQLAlchemy closes the cursor; SQLAlchemy logs it.
      assert.match(first.stdout, /ERROR - Error closing cursor/);
      assert.match(first.stdout, /MySQLdb\._exceptions\.OperationalError: \(1419, 'You do not have the SUPER privilege and binary logging is enabled/);
      assert.equal(finalError(first),
        `sqlalchemy.exc.OperationalError: (MySQLdb._exceptions.OperationalError) (1305, 'FUNCTION ${af.db.name}.uuid_generate_v7 does not exist')`);
      assert.match(first.stderr, /\[SQL: UPDATE task_instance SET id = uuid_generate_v7/);
      assert.deepEqual(await af.shape(), { ...PRISTINE, revision: BEFORE, hasId: true });

      const again = await af.migrate();
      assert.equal(again.exitCode, 1, explain(again));
      assert.equal(finalError(again), `sqlalchemy.exc.OperationalError: (MySQLdb._exceptions.OperationalError) (1060, "Duplicate column name 'id'")`);

      await af.app.raw('ALTER TABLE task_instance DROP COLUMN id');
      await root.raw('SET GLOBAL log_bin_trust_function_creators = 1');
      try {
        const done = await af.migrate();
        assert.equal(done.exitCode, 0, explain(done));
        assert.match(done.stdout, /Database migrating done!/);
      } finally {
        await root.raw('SET GLOBAL log_bin_trust_function_creators = 0');
      }
      assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
      const ids = await af.ids();
      assert.equal(ids.length, ROWS);
      for (const id of ids) assert.match(id, UUID_V7);
      assert.equal((await check(af)).exitCode, 0);
    } finally {
      await af.cleanup();
    }
  });

  describe('with log_bin_trust_function_creators = 1 on the throw-away server', () => {
    before(async () => { await root.raw('SET GLOBAL log_bin_trust_function_creators = 1'); });
    after(async () => { await root.raw('SET GLOBAL log_bin_trust_function_creators = 0'); });

    it('(d) PyMySQL sends the DROP/CREATE FUNCTION pair as one statement: 1064, after step 1 committed', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const r = await af.migrate({}, undefined, 'pymysql');
        assert.equal(r.exitCode, 1, explain(r));
        assert.match(finalError(r), /^sqlalchemy\.exc\.ProgrammingError: \(pymysql\.err\.ProgrammingError\) \(1064, "You have an error in your SQL syntax/);
        assert.match(r.stderr, /\[SQL: DROP FUNCTION IF EXISTS uuid_generate_v7;\nCREATE FUNCTION uuid_generate_v7/);
        assert.deepEqual(await af.shape(), { ...PRISTINE, revision: BEFORE, hasId: true });
      } finally {
        await af.cleanup();
      }
    });

    it('(d2) Debian\'s mysqlclient 1.4.6 as shipped (no multi-statement flag: Connector/C reports 3.3): the same 1064, after step 1', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const r = await af.migrate({ mysqlclient: 'debian-1.4.6' });
        assert.equal(r.exitCode, 1, explain(r));
        assert.match(finalError(r), /^sqlalchemy\.exc\.ProgrammingError: \(MySQLdb\._exceptions\.ProgrammingError\) \(1064, "You have an error in your SQL syntax/);
        assert.match(r.stderr, /\[SQL: DROP FUNCTION IF EXISTS uuid_generate_v7;\nCREATE FUNCTION uuid_generate_v7/);
        assert.deepEqual(await af.shape(), { ...PRISTINE, revision: BEFORE, hasId: true });
      } finally {
        await af.cleanup();
      }
    });

    it('(e) holds GET_LOCK(\'airflow_MIGRATIONS\') on its own connection for the whole upgrade; a second migrator waits', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const a = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url(), ...controlsEnv({ sleepAtStep: 3, sleepSeconds: 10 }) });
        await a.waitFor(/sleeping 10s before step 3 of d59cbbef95eb/);
        assert.equal(Number((await rootQuery("SELECT GET_LOCK('airflow_MIGRATIONS', 0) AS got"))[0].got), 0);
        const holder = (await rootQuery("SELECT IS_USED_LOCK('airflow_MIGRATIONS') AS id"))[0].id;
        const sessions = await rootQuery(`SELECT id, info FROM information_schema.processlist WHERE db = '${af.db.name}'`);
        assert.ok(sessions.some((s) => Number(s.id) === Number(holder)), 'the lock is held by a session of the migrator');
        assert.ok(sessions.length >= 2, 'the lock and the migration are on two connections');

        const b = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url() });
        await b.waitFor(/Performing upgrade/);
        let waiting: Record<string, unknown>[] = [];
        for (let i = 0; i < 40 && waiting.length === 0; i += 1) {
          await sleep(200);
          waiting = await rootQuery(`SELECT info FROM information_schema.processlist WHERE db = '${af.db.name}' AND info LIKE 'SELECT GET_LOCK%'`);
        }
        assert.equal(waiting.length, 1, 'the second migrator waits in GET_LOCK');
        assert.equal(b.child.exitCode, null);
        assert.equal(a.child.exitCode, null, 'while the first still sleeps with the lock');

        const [ra, rb] = await Promise.all([a.done, b.done]);
        assert.equal(ra.exitCode, 0, explain(ra));
        assert.equal(rb.exitCode, 0, explain(rb));
        assert.match(ra.stdout, /Running upgrade 05234396c6fc -> d59cbbef95eb/);
        assert.doesNotMatch(rb.stdout, /Running upgrade/, 'the second one found nothing left to do');
        assert.equal(Number((await rootQuery("SELECT GET_LOCK('airflow_MIGRATIONS', 0) AS got"))[0].got), 1, 'released');
        await root.raw("SELECT RELEASE_LOCK('airflow_MIGRATIONS')");
        assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
      } finally {
        await af.cleanup();
      }
    });

    it('a SIGKILL after step 6 (os._exit) leaves ids, no foreign keys, no primary key, the old stamp; the lock dies with it', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const r = await af.migrate({ stopAfter: 6 });
        assert.equal(r.exitCode, KILLED_EXIT_CODE, explain(r));
        assert.match(r.stderr, /stopping abruptly after step 6 of d59cbbef95eb/);
        assert.deepEqual(await af.shape(), { revision: BEFORE, hasId: true, primaryKey: [], compositeKey: false, foreignKeys: [] });
        for (const id of await af.ids()) assert.match(id, UUID_V7);
        assert.equal(Number((await rootQuery("SELECT GET_LOCK('airflow_MIGRATIONS', 0) AS got"))[0].got), 1);
        await root.raw("SELECT RELEASE_LOCK('airflow_MIGRATIONS')");
        const rerun = await af.migrate();
        assert.equal(finalError(rerun), `sqlalchemy.exc.OperationalError: (MySQLdb._exceptions.OperationalError) (1060, "Duplicate column name 'id'")`);
      } finally {
        await af.cleanup();
      }
    });

    it('(c) an orphan row in task_map: 1452 at step 8, leaving the key on id and six of the seven foreign keys', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const counts = await rowCounts(af.app);
        // Orphans exist in real databases written while the keys were off; a session-level switch makes one here.
        await af.app.raw('SET SESSION foreign_key_checks = 0');
        await af.app.raw(`INSERT INTO task_map (dag_id, task_id, run_id, map_index, length) VALUES ('gone', 'gone', 'gone', -1, 0)`);
        await af.app.raw('SET SESSION foreign_key_checks = 1');
        const r = await af.migrate();
        assert.equal(r.exitCode, 1, explain(r));
        assert.match(r.stdout, /d59cbbef95eb step 8\/8: re-create the seven foreign keys/);
        assert.match(finalError(r), /^sqlalchemy\.exc\.IntegrityError: \(MySQLdb\._exceptions\.IntegrityError\) \(1452, 'Cannot add or update a child row: a foreign key constraint fails \(.*`task_map_task_instance_fkey` FOREIGN KEY \(`dag_id`, `task_id`, `run_id`, `map_index`\) REFERENCES `task_instance`/);
        assert.deepEqual(await af.shape(), {
          ...MIGRATED, revision: BEFORE, foreignKeys: FOREIGN_KEYS.filter((k) => k !== 'task_map_task_instance_fkey'),
        });
        assert.deepEqual(await rowCounts(af.app), { ...counts, task_map: counts.task_map + 1 });
      } finally {
        await af.cleanup();
      }
    });

    it('(c) duplicates written while the composite key is not enforced (after step 6): 1062 at step 7', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const a = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url(), ...controlsEnv({ sleepAtStep: 7, sleepSeconds: 5 }) });
        await a.waitFor(/sleeping 5s before step 7 of d59cbbef95eb/);
        // Steps 1-6 are committed: no primary key, no unique key. A writer that knows the id column (an Airflow 3
        // scheduler started on the half-migrated database) can now insert a second row for the same task instance.
        assert.deepEqual((await af.shape()).primaryKey, []);
        await af.app.raw(`INSERT INTO task_instance (id, dag_id, task_id, run_id, map_index, pool, pool_slots, state)
          SELECT UUID(), dag_id, task_id, run_id, map_index, pool, pool_slots, 'queued' FROM task_instance WHERE task_id = 'task_1'`);
        const r = await a.done;
        assert.equal(r.exitCode, 1, explain(r));
        assert.match(finalError(r), /^sqlalchemy\.exc\.IntegrityError: \(MySQLdb\._exceptions\.IntegrityError\) \(1062, "Duplicate entry 'dag_1-task_1-scheduled__2025-01-1--1' for key 'task_instance_composite_key'"\)/);
        assert.match(r.stderr, /\[SQL: ALTER TABLE task_instance ADD CONSTRAINT task_instance_composite_key UNIQUE \(dag_id, task_id, run_id, map_index\)\]/);
        assert.deepEqual(await af.shape(), { revision: BEFORE, hasId: true, primaryKey: [], compositeKey: false, foreignKeys: [] });
      } finally {
        await af.cleanup();
      }
    });

    it('(c) a row written without an id after step 3 (a writer unaware of the column): 1265 at step 7\'s NOT NULL', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const a = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url(), ...controlsEnv({ sleepAtStep: 7, sleepSeconds: 5 }) });
        await a.waitFor(/sleeping 5s before step 7 of d59cbbef95eb/);
        await af.app.raw(`INSERT INTO task_instance (dag_id, task_id, run_id, map_index, pool, pool_slots)
          VALUES ('late_dag', 'late_task', 'late_run', -1, 'default_pool', 1)`);
        const r = await a.done;
        assert.equal(r.exitCode, 1, explain(r));
        assert.equal(finalError(r), `sqlalchemy.exc.DataError: (MySQLdb._exceptions.DataError) (1265, "Data truncated for column 'id' at row ${ROWS + 1}")`);
        assert.match(r.stderr, /\[SQL: ALTER TABLE task_instance MODIFY id VARCHAR\(36\) NOT NULL\]/);
        assert.deepEqual(await af.shape(), { revision: BEFORE, hasId: true, primaryKey: [], compositeKey: false, foreignKeys: [] });
      } finally {
        await af.cleanup();
      }
    });

    it('(f) with Airflow 3.0.0-3.0.5\'s id function every id has a last group of 8 hex digits, and the migration succeeds', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const r = await af.migrate({ malformedIds: true });
        assert.equal(r.exitCode, 0, explain(r));
        const ids = await af.ids();
        assert.equal(ids.length, ROWS);
        for (const id of ids) {
          assert.match(id, MALFORMED);
          assert.equal(id.length, 32);
        }
        assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
        assert.equal((await check(af)).exitCode, 0, 'check-migrations only compares revisions');
      } finally {
        await af.cleanup();
      }
    });

    it('(g) a second upgrade: -r d59cbbef95eb, check-migrations fails, then db migrate applies 486ac7936b78 only', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const first = await af.migrate({}, ['db', 'migrate', '-r', 'd59cbbef95eb']);
        assert.equal(first.exitCode, 0, explain(first));
        assert.equal((await af.shape()).revision, 'd59cbbef95eb');
        const pending = await check(af);
        assert.equal(pending.exitCode, 1);
        assert.match(pending.stdout, /Waiting for migrations\.\.\. 0 second\(s\)/);
        assert.equal(finalError(pending), "TimeoutError: There are still unapplied migrations after 1 seconds. "
          + "MigrationHead(s) in DB: {'d59cbbef95eb'} | Migration Head(s) in Source Code: {'486ac7936b78'}");
        assert.equal(Number((await query(af.app, 'mysql', `SELECT COUNT(*) AS n FROM information_schema.columns
          WHERE table_schema = DATABASE() AND table_name = 'dag' AND column_name = 'scheduler_lock'`))[0].n), 1);

        const second = await af.migrate();
        assert.equal(second.exitCode, 0, explain(second));
        assert.doesNotMatch(second.stdout, /Running upgrade 05234396c6fc/);
        assert.match(second.stdout, /Running upgrade d59cbbef95eb -> 486ac7936b78, Remove scheduler_lock column\./);
        assert.equal(Number((await query(af.app, 'mysql', `SELECT COUNT(*) AS n FROM information_schema.columns
          WHERE table_schema = DATABASE() AND table_name = 'dag' AND column_name = 'scheduler_lock'`))[0].n), 0);
        assert.equal((await check(af)).exitCode, 0);
      } finally {
        await af.cleanup();
      }
    });

    it('reads the URL from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD, here a unix_socket URL', async () => {
      const af = await airflowDb(binlog.server);
      try {
        const socket = String((await rootQuery('SELECT @@socket AS s'))[0].s);
        const { user, password, database } = af.db.appSpec;
        const url = `mysql+mysqldb://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@/${database}?unix_socket=${socket}`;
        const r = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: `printf %s '${url}'` });
        assert.equal(r.exitCode, 0, explain(r));
        assert.match(r.stdout, new RegExp(`DB: mysql\\+mysqldb://${user}:\\*\\*\\*@/${database}\\?unix_socket=`));
        assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
        const failing = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: 'false' });
        assert.equal(failing.exitCode, 1);
        assert.match(finalError(failing), /^RuntimeError: Cannot execute false\. Error code is: 1\./);
      } finally {
        await af.cleanup();
      }
    });
  });
});

const POSTGRES = SERVERS.find((s) => s.engine === 'postgres')!;

describe('Python stand-in on PostgreSQL 15', () => {
  it('(b) migrates an owner\'s database to the head: UUID v7 ids in batches, pgcrypto installed and left', async () => {
    const af = await airflowDb(POSTGRES, 2500);
    try {
      const r = await af.migrate();
      assert.equal(r.exitCode, 0, explain(r));
      assert.match(r.stdout, /Will assume transactional DDL/);
      assert.match(r.stdout, /processing batch 3\nMigrated 500 task_instance rows in this batch\.\.\.\nprocessing batch 4\n/);
      assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
      const ids = await af.ids();
      assert.equal(ids.length, 2500);
      for (const id of ids) assert.match(id, UUID_V7);
      assert.equal(new Set(ids).size, ids.length);
      const ext = await query(af.app, 'postgres', "SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'");
      assert.equal(ext.length, 1);
      const fn = await query(af.app, 'postgres', "SELECT 1 FROM pg_proc WHERE proname = 'uuid_generate_v7'");
      assert.equal(fn.length, 0, 'the function is dropped again');
      assert.equal((await check(af)).exitCode, 0);
    } finally {
      await af.cleanup();
    }
  });

  it('a SIGKILL at step 7 leaves nothing behind: the whole revision was one transaction', async () => {
    const af = await airflowDb(POSTGRES);
    try {
      const r = await af.migrate({ stopAfter: 7 });
      assert.equal(r.exitCode, KILLED_EXIT_CODE, explain(r));
      assert.deepEqual(await af.shape(), { ...PRISTINE, revision: BEFORE });
      assert.equal((await query(af.app, 'postgres', "SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'")).length, 0);
    } finally {
      await af.cleanup();
    }
  });

  it('(c) an orphan row in task_map: foreign key violation at step 8, rolled back whole', async () => {
    const af = await airflowDb(POSTGRES);
    try {
      // session_replication_role skips foreign key triggers for this superuser session only.
      await af.db.root.knex.raw('SET session_replication_role = replica');
      await af.db.root.knex.raw(`INSERT INTO task_map (dag_id, task_id, run_id, map_index, length) VALUES ('gone', 'gone', 'gone', -1, 0)`);
      await af.db.root.knex.raw('SET session_replication_role = DEFAULT');
      const r = await af.migrate();
      assert.equal(r.exitCode, 1, explain(r));
      assert.equal(finalError(r), 'sqlalchemy.exc.IntegrityError: (psycopg2.errors.ForeignKeyViolation) insert or update on table '
        + '"task_map" violates foreign key constraint "task_map_task_instance_fkey"');
      assert.deepEqual(await af.shape(), { ...PRISTINE, revision: BEFORE });
    } finally {
      await af.cleanup();
    }
  });

  it('pgcrypto installed in a schema outside the search_path: gen_random_bytes is not found at step 3, rolled back', async () => {
    const db = await createScratchDatabase(POSTGRES, 'omm_afpy');
    const app = openKnex(db.appSpec);
    try {
      await db.root.knex.raw('CREATE EXTENSION pgcrypto'); // into public, by the superuser, in this scratch database only
      await app.raw('CREATE SCHEMA airflow');
      await app.raw('SET search_path TO airflow');
      await createAirflowSchema(app, 'postgres');
      await seedTaskInstances(app, 'postgres', ROWS);
      await createDagTable(app, 'postgres');
      const r = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sqlAlchemyUrl(db.appSpec, 'psycopg2', 'options=-csearch_path%3Dairflow') });
      assert.equal(r.exitCode, 1, explain(r));
      // The function sees pgcrypto in pg_extension (any schema) and calls gen_random_bytes unqualified.
      assert.equal(finalError(r), 'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedFunction) function gen_random_bytes(integer) does not exist');
      assert.deepEqual(await shapeOf(app, 'postgres', 'airflow'), { ...PRISTINE, revision: BEFORE });
    } finally {
      await app.destroy();
      await db.drop();
    }
  });

  it('(e) holds pg_advisory_lock(1) while migrating; a second migrator gives up after lock_timeout (1800 ms)', async () => {
    const af = await airflowDb(POSTGRES);
    try {
      const a = startPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url(), ...controlsEnv({ sleepAtStep: 3, sleepSeconds: 12 }) });
      await a.waitFor(/sleeping 12s before step 3 of d59cbbef95eb/);
      const other = openKnex(af.db.appSpec);
      try {
        assert.equal((await query(other, 'postgres', 'SELECT pg_try_advisory_lock(1) AS got'))[0].got, false);
      } finally {
        await other.destroy();
      }
      const started = Date.now();
      const b = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: af.url() });
      assert.equal(b.exitCode, 1, explain(b));
      assert.ok(Date.now() - started < 10_000, 'gave up long before the first one finished');
      assert.match(b.stderr, /psycopg2\.errors\.LockNotAvailable\) canceling statement due to lock timeout\n\n\[SQL: SELECT pg_advisory_lock\(%\(id\)s\)\]\n\[parameters: \{'id': 1\}\]/);
      // The release in the lock's `finally` then runs on the aborted transaction, and that error is the last one shown.
      assert.equal(finalError(b), 'sqlalchemy.exc.InternalError: (psycopg2.errors.InFailedSqlTransaction) current transaction '
        + 'is aborted, commands ignored until end of transaction block');
      const ra = await a.done;
      assert.equal(ra.exitCode, 0, explain(ra));
      assert.deepEqual(await af.shape(), { ...MIGRATED, revision: HEAD });
    } finally {
      await af.cleanup();
    }
  });

  it('(b) URL forms: a socket directory as ?host= and options=-csearch_path%3Dairflow for another schema', async () => {
    const db = await createScratchDatabase(POSTGRES, 'omm_afpy');
    const app = openKnex(db.appSpec);
    try {
      await app.raw('CREATE SCHEMA airflow');
      await app.raw('SET search_path TO airflow');
      await createAirflowSchema(app, 'postgres');
      await seedTaskInstances(app, 'postgres', ROWS);
      await createDagTable(app, 'postgres');
      const { user, password, database } = db.appSpec;
      const url = `postgresql+psycopg2://${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@/${database}`
        + '?host=/var/run/postgresql&options=-csearch_path%3Dairflow';
      const r = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: url });
      assert.equal(r.exitCode, 0, explain(r));
      assert.deepEqual(await shapeOf(app, 'postgres', 'airflow'), { ...MIGRATED, revision: HEAD });
      const where = await query(app, 'postgres', `SELECT n.nspname AS schema FROM pg_extension e
        JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'`);
      assert.deepEqual(where, [{ schema: 'airflow' }]);
      const stray = await query(app, 'postgres', "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'");
      assert.equal(stray.length, 0);
    } finally {
      await app.destroy();
      await db.drop();
    }
  });
});

