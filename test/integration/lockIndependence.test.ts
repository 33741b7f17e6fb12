import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import type { ConnectedTarget } from '../../src/core/Gate.js';
import { OmMigrateError } from '../../src/errors.js';
import { runBackup } from '../../src/backup/runBackup.js';
import { runLockName } from '../../src/lock/lockName.js';
import { acquireRunLock } from '../../src/lock/runLock.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { createDagTable, sqlAlchemyUrl, standInCommandLine } from '../fixtures/airflow/python/pythonAirflow.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { waitFor } from '../helpers/upHarness.js';
import { SERVERS, createScratchDatabase, type ScratchDatabase, type TestServer } from '../helpers/servers.js';

/**
 * The run lock's keep-alive and check never wait behind the work (issue 25, point 1). Before, the watcher asked on the
 * one pinned connection that also ran the repair: a statement (or a wait on a table lock) longer than --connect-timeout
 * + 1 s read as "this run lost its lock … Timeout acquiring a connection", exit 12, and the repair's remaining
 * statements still ran. Now the lock lives on a session of its own; when it is really lost the running statement is
 * cancelled on the server. The waits below are for the server to get there, never timed assertions.
 */
const CONNECT_TIMEOUT_S = 1;
/** Longer than the connect timeout + 1 s and than two of the watcher's checks (every 2 s). */
const BLOCKED_FOR_MS = 6_000;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function scratch(server: TestServer, prefix: string): Promise<{ db: ScratchDatabase; app: Dialect }> {
  const db = await createScratchDatabase(server, prefix, { seesOtherSessions: true });
  const app = await connect(db.appSpec);
  cleanups.push(async () => { await app.close(); await db.drop(); });
  return { db, app };
}

/** A connection of the superuser that holds a read transaction on task_instance (a scheduler's open transaction). */
async function readerHolding(db: ScratchDatabase): Promise<{ release(): Promise<void> }> {
  const reader = await connect(db.rootSpec);
  await reader.knex.raw(db.server.engine === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
  await reader.knex.raw('SELECT COUNT(*) FROM task_instance');
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await reader.knex.raw('COMMIT').catch(() => undefined);
    await reader.close();
  };
  cleanups.push(release);
  return { release };
}

/** The repair's ALTER TABLE task_instance, waiting on the server for the reader's lock. */
async function waitingAlter(db: ScratchDatabase): Promise<string | undefined> {
  const sql = db.server.engine === 'mysql'
    ? `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND USER = ? AND INFO LIKE 'ALTER TABLE task\\_instance%'`
    : `SELECT pid AS id FROM pg_stat_activity WHERE datname = ? AND usename = ? AND state = 'active' AND wait_event_type = 'Lock'
        AND query LIKE 'ALTER TABLE task\\_instance%'`;
  const result = await db.root.knex.raw(sql, [db.name, db.appSpec.user]) as unknown;
  const found = Array.isArray(result) ? result[0] as Array<{ id: unknown }> : (result as { rows: Array<{ id: unknown }> }).rows;
  return found.length > 0 ? String(found[0].id) : undefined;
}

/** A half-applied d59cbbef95eb: MariaDB as the killed migrator leaves it; PostgreSQL (which rolls back) stamped back by hand. */
async function halfApplied(server: TestServer, db: ScratchDatabase, app: Dialect): Promise<void> {
  await createAirflowSchema(app, server.engine);
  await createDagTable(app.knex, server.engine);
  await seedTaskInstances(app, server.engine, 10);
  if (server.engine === 'mysql') {
    await runStandInMigration(db.appSpec, { stopAfter: 1 }).catch((e) => assert.ok(e instanceof SimulatedCrash, String(e)));
  } else {
    await runStandInMigration(db.appSpec);
    await app.knex.raw("UPDATE alembic_version SET version_num = '05234396c6fc'");
  }
  assert.equal((await detectAirflowState(app)).kind, 'half-applied');
}

function startUp(spec: ConnectionSpec, dir: string): { done: Promise<{ code: number | null; stdout: string; stderr: string; json: any }> } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const env = cleanEnv({
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sqlAlchemyUrl({ ...spec, password: spec.password ?? undefined }),
    OM_MIGRATE_AIRFLOW_COMMAND: standInCommandLine(['db', 'migrate']),
    OM_MIGRATE_AIRFLOW_CHECK_COMMAND: standInCommandLine(['db', 'check-migrations', '-t', '0']),
    OM_MIGRATE_BACKUP_DIR: join(dir, 'backups'),
    OM_MIGRATE_JOURNAL_DIR: join(dir, 'journal'),
    OM_MIGRATE_CONNECT_TIMEOUT: `${CONNECT_TIMEOUT_S}s`,
    PYTHONDONTWRITEBYTECODE: '1',
  });
  const child = spawn(process.execPath, [CLI, 'up', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  cleanups.push(async () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return {
    done: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json });
      });
    }),
  };
}

for (const server of SERVERS) {
  describe(`the run lock beside long work: ${server.label}`, () => {
    it('a statement of the work blocked past --connect-timeout + 1 s is not a lost lock; ending the lock\'s session is', async () => {
      const { db } = await scratch(server, 'omm_lockind');
      const work = await connect(db.appSpec, { timeoutMs: CONNECT_TIMEOUT_S * 1000 });
      cleanups.push(() => work.close());
      const target: ConnectedTarget = { role: 'airflow', spec: db.appSpec, dialect: work, server: await work.serverInfo(), privileges: await work.privileges() };
      const lock = await acquireRunLock([target], 0, { command: 'up', connectTimeoutMs: CONNECT_TIMEOUT_S * 1000 });
      cleanups.push(() => lock.release());
      const losses: OmMigrateError[] = [];
      lock.watch((e) => losses.push(e), 200);
      // The superuser holds an advisory lock; the work's session waits for it, as a repair waits for a table lock.
      const key = 'omm-lockind-blocker';
      if (server.engine === 'mysql') await db.root.knex.raw('SELECT GET_LOCK(?, 0)', [key]);
      else await db.root.knex.raw('SELECT pg_advisory_lock(hashtext(?))', [key]);
      const blocked = (server.engine === 'mysql'
        ? work.knex.raw('SELECT GET_LOCK(?, 60) AS got', [key]) : work.knex.raw('SELECT pg_advisory_lock(hashtext(?))', [key]))
        .then(() => 'done', (e: Error) => `failed: ${e.message}`);
      await sleep(BLOCKED_FOR_MS);
      assert.deepEqual(losses.map((e) => e.message), [], 'the lock was not taken for lost while the work waited');
      if (server.engine === 'mysql') await db.root.knex.raw('SELECT RELEASE_LOCK(?)', [key]);
      else await db.root.knex.raw('SELECT pg_advisory_unlock(hashtext(?))', [key]);
      assert.equal(await blocked, 'done');

      // Now the server really ends the lock's session.
      const holder = await work.lock(runLockName(db.appSpec)).holder();
      assert.ok(holder, 'the lock is held');
      const workId = await work.runs.connectionId();
      assert.notEqual(holder.connectionId, workId, 'the lock has a session of its own, not the work\'s');
      if (server.engine === 'mysql') await db.root.knex.raw(`KILL ${Number(holder.connectionId)}`);
      else await db.root.knex.raw('SELECT pg_terminate_backend(?)', [Number(holder.connectionId)]);
      await waitFor('the watcher to notice', () => losses.length > 0, 30_000);
      assert.equal(losses[0].code, 'LOCK_LOST');
      assert.match(losses[0].message, /session was ended by the server/);
    });

    it('a backup stopped because the lock was lost says so (LOCK_LOST, exit 12), not "interrupted" (exit 130)', async () => {
      const { db, app } = await scratch(server, 'omm_lockind_dump');
      await app.knex.raw('CREATE TABLE t (a INT)');
      const dir = mkdtempSync(join(tmpdir(), 'omm-lockind-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const lost = new OmMigrateError('LOCK_LOST', `airflow: this run lost its lock on ${db.name}: its session was ended by the server`);
      await assert.rejects(runBackup({ role: 'airflow', dialect: app }, { backupDir: dir, backupCompress: 'none', env: process.env }, { signal: AbortSignal.abort(lost) }),
        (e: unknown) => e instanceof OmMigrateError && e.code === 'LOCK_LOST' && /lost its lock/.test(e.message) && /partial file was removed/.test(e.message));
      assert.deepEqual(readdirSync(dir), []);
    });

    it('up: a repair ALTER waiting on a reader\'s transaction past --connect-timeout + 1 s finishes once the reader commits (exit 0, not 12)', async () => {
      const { db, app } = await scratch(server, 'omm_lockind_up');
      await halfApplied(server, db, app);
      const dir = mkdtempSync(join(tmpdir(), 'omm-lockind-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const reader = await readerHolding(db);
      const run = startUp(db.appSpec, dir);
      await waitFor('the repair to wait for the reader', () => waitingAlter(db), 120_000);
      await sleep(BLOCKED_FOR_MS);
      await reader.release();
      const result = await run.done;
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(result.json.result.after.airflow.revision, AIRFLOW_HEAD);
    });

    it('up: the lock\'s session ended while the repair waits: exit 12 at once, the waiting statement cancelled, nothing more run', async () => {
      const { db, app } = await scratch(server, 'omm_lockind_lost');
      await halfApplied(server, db, app);
      const before = await detectAirflowState(app);
      const dir = mkdtempSync(join(tmpdir(), 'omm-lockind-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const reader = await readerHolding(db);
      const run = startUp(db.appSpec, dir);
      await waitFor('the repair to wait for the reader', () => waitingAlter(db), 120_000);
      const holder = await app.lock(runLockName(db.appSpec)).holder();
      assert.ok(holder);
      if (server.engine === 'mysql') await db.root.knex.raw(`KILL ${Number(holder.connectionId)}`);
      else await db.root.knex.raw('SELECT pg_terminate_backend(?)', [Number(holder.connectionId)]);
      // The run must end while the reader still holds task_instance: a run that waited for it would hang here.
      const result = await Promise.race([run.done, sleep(90_000).then(() => undefined)]);
      assert.ok(result, 'up ended without waiting for the reader');
      assert.equal(result.code, 12, result.stdout + result.stderr);
      assert.equal(result.json.error.code, 'LOCK_LOST');
      assert.equal(await waitingAlter(db), undefined, 'the repair\'s statement no longer waits on the server');
      await reader.release();
      await sleep(1000);
      const afterwards = await detectAirflowState(app);
      assert.equal(afterwards.kind, 'half-applied');
      assert.deepEqual(afterwards.damage, before.damage, 'no repair statement ran after the lock was lost');
    });
  });
}
