import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { manifestPathFor } from '../../src/backup/BackupManifest.js';
import { runBackup } from '../../src/backup/runBackup.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import type { ConnectedTarget } from '../../src/core/Target.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { runLockName } from '../../src/lock/lockName.js';
import { acquireRunLock } from '../../src/lock/runLock.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { CLI, cleanEnv, omArgs, specUrl, type CliResult } from '../helpers/cli.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase, type TestServer } from '../helpers/servers.js';

/**
 * The one lock frame (issue 23, point 4; issue 21, point 8): restore, revert-params and repair-airflow hold the same run
 * lock as up, are refused while another session holds it (LOCK_HELD, exit 5), and stop when they lose it (LOCK_LOST,
 * exit 12) — even while their statement waits for a lock another session holds. A repair blocked that way stops at
 * --step-timeout (STEP_FAILED, exit 8), its statement cancelled on the server.
 */
const dirs: string[] = [];
const dbs: ScratchDatabase[] = [];
after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await Promise.allSettled(dbs.map((d) => d.drop()));
});

async function scratch(server: TestServer, prefix: string, seesOtherSessions = false): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(server, prefix, { seesOtherSessions });
  dbs.push(db);
  return db;
}

interface Started { done: Promise<CliResult & { json: { error?: { code: string; message: string } } }>; exited: () => boolean }

function start(args: string[], env: Record<string, string>): Started {
  let finished = false;
  const done = new Promise<CliResult & { json: { error?: { code: string; message: string } } }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      finished = true;
      let json = {};
      try {
        json = JSON.parse(stdout) as object;
      } catch {
        // not JSON: the assertion on the code shows the output
      }
      resolve({ code, stdout, stderr, json });
    });
  });
  return { done, exited: () => finished };
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The run lock's holder session of `spec`'s database, seen from another session. */
async function lockHolder(app: Dialect, spec: ConnectionSpec): Promise<string | undefined> {
  return (await app.lock(runLockName(spec)).holder())?.connectionId;
}

/** Ends a session through the server's superuser, as wait_timeout or a failover would. */
async function endSession(server: TestServer, id: string): Promise<void> {
  const admin = await connect(server.admin);
  try {
    if (server.engine === 'mysql') await admin.knex.raw(`KILL ${Number(id)}`);
    else await admin.knex.raw('SELECT pg_terminate_backend(?)', [Number(id)]);
  } finally {
    await admin.close();
  }
}

/** Statements on `database` that match `pattern` and are running now (waiting for a lock, say). */
async function running(server: TestServer, database: string, pattern: string): Promise<number> {
  const admin = await connect(server.admin);
  try {
    const r = server.engine === 'mysql'
      ? await admin.knex.raw("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE ? AND COMMAND = 'Query'", [database, pattern])
      : await admin.knex.raw("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = ? AND query LIKE ? AND state = 'active'", [database, pattern]);
    const rows = server.engine === 'mysql' ? (r as Array<Array<{ n: number }>>)[0] : (r as { rows: Array<{ n: number }> }).rows;
    return Number(rows[0].n);
  } finally {
    await admin.close();
  }
}

async function target(spec: ConnectionSpec): Promise<ConnectedTarget> {
  const dialect = await connect(spec, { purpose: 'up' });
  return { role: 'openmetadata', spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
}

/** An Airflow database at 05234396c6fc missing one foreign key (repairable on both engines), and a session whose open transaction keeps the repair's ALTER waiting. */
async function blockedRepair(server: TestServer): Promise<{ db: ScratchDatabase; url: string; blocker: Dialect; app: Dialect }> {
  const db = await scratch(server, 'omm_lf_af', true);
  const app = await connect(db.appSpec);
  await createAirflowSchema(app, server.engine);
  await seedTaskInstances(app, server.engine, 20);
  await db.root.knex.raw(server.engine === 'mysql' ? 'ALTER TABLE task_map DROP FOREIGN KEY task_map_task_instance_fkey'
    : 'ALTER TABLE task_map DROP CONSTRAINT task_map_task_instance_fkey');
  assert.equal((await detectAirflowState(app)).kind, 'half-applied');
  const blocker = await connect({ ...db.rootSpec });
  await blocker.knex.raw(server.engine === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
  // MySQL: the open transaction's metadata lock; PostgreSQL: a lock that conflicts with ADD FOREIGN KEY's SHARE ROW EXCLUSIVE only.
  await blocker.knex.raw(server.engine === 'mysql' ? 'SELECT COUNT(*) FROM task_map' : 'LOCK TABLE task_map IN ROW EXCLUSIVE MODE');
  const url = specUrl(db.appSpec, server.engine === 'mysql' ? 'mysql+pymysql' : 'postgresql');
  return { db, url, blocker, app };
}

for (const server of SERVERS) {
  describe(`one lock frame: ${server.label}`, () => {
    it('restore takes the run lock of the database it restores into: LOCK_HELD (exit 5) while up holds it, restores once it is free', async () => {
      const db = await scratch(server, 'omm_lf_rs');
      const dir = mkdtempSync(join(tmpdir(), 'omm-lf-backups-'));
      dirs.push(dir);
      await db.root.knex.raw('CREATE TABLE kept (id INT PRIMARY KEY)');
      await db.root.knex.raw('INSERT INTO kept VALUES (1), (2)');
      if (server.engine === 'postgres') await db.root.knex.raw(`ALTER TABLE kept OWNER TO "${db.appSpec.user}"`);
      const app = await connect(db.appSpec);
      try {
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, { backupDir: dir, backupCompress: 'none', env: process.env });
        await db.root.knex.raw('DROP TABLE kept');
        const { args, env } = omArgs(db.appSpec);
        const restore = ['restore', '--manifest', manifestPathFor(join(dir, manifest.file)), ...args, '--json'];
        // Another session runs `up` on that database.
        const up = await target(db.appSpec);
        const lock = await acquireRunLock([up], 0, { command: 'up' });
        try {
          const refused = await start(restore, env).done;
          assert.equal(refused.code, 5, refused.stdout + refused.stderr);
          assert.equal(refused.json.error?.code, 'LOCK_HELD');
          assert.match(refused.json.error?.message ?? '', new RegExp(`om-migrate up pid=${process.pid}`));
          assert.deepEqual(await app.introspect.relationNames(), [server.engine === 'mysql' ? 'om_migrate_lock_holder' : 'public.om_migrate_lock_holder'],
            'nothing was restored');
        } finally {
          await lock.release();
          await up.dialect.close();
        }
        await db.root.knex.raw('DROP TABLE om_migrate_lock_holder');
        const restored = await start(restore, env).done;
        assert.equal(restored.code, 0, restored.stdout + restored.stderr);
        assert.deepEqual(await app.introspect.relationNames(), [server.engine === 'mysql' ? 'kept' : 'public.kept'], 'restored, and no holder row left behind');
      } finally {
        await app.close();
      }
    });

    it('revert-params loses its lock while its statement waits: LOCK_LOST (exit 12), the statement cancelled', async () => {
      const db = await scratch(server, 'omm_lf_rp');
      const dir = mkdtempSync(join(tmpdir(), 'omm-lf-journal-'));
      dirs.push(dir);
      const app = await connect(db.appSpec);
      await app.journal.ensure();
      const blocker = await connect(db.rootSpec);
      try {
        if (server.engine === 'mysql') await blocker.knex.raw('LOCK TABLES om_migrate_journal WRITE');
        else {
          await blocker.knex.raw('BEGIN');
          await blocker.knex.raw('LOCK TABLE om_migrate_journal IN ACCESS EXCLUSIVE MODE');
        }
        const { args, env } = omArgs(db.appSpec);
        const run = start(['revert-params', ...args, '--journal-dir', dir, '--json'], env);
        await waitFor('revert-params to hold its lock', async () => (await lockHolder(app, db.appSpec)) !== undefined);
        await waitFor('its read of the journal to wait', async () => (await running(server, db.name, '%om_migrate_journal%')) > 0);
        await endSession(server, (await lockHolder(app, db.appSpec))!);
        const lostAt = Date.now();
        const result = await run.done;
        assert.equal(result.code, 12, result.stdout + result.stderr);
        assert.equal(result.json.error?.code, 'LOCK_LOST');
        assert.ok(Date.now() - lostAt < 15_000, `stopped ${Date.now() - lostAt} ms after losing the lock, the table still locked`);
        assert.equal(await running(server, db.name, '%om_migrate_journal%'), 0, 'its statement was cancelled');
      } finally {
        await blocker.knex.raw(server.engine === 'mysql' ? 'UNLOCK TABLES' : 'ROLLBACK').catch(() => undefined);
        await blocker.close();
        await app.close();
      }
    });

    it('repair-airflow loses its lock while its ALTER waits: LOCK_LOST (exit 12), the ALTER cancelled, nothing more run', async () => {
      const { db, url, blocker, app } = await blockedRepair(server);
      try {
        const run = start(['repair-airflow', '--airflow-url', url, '--no-backup', '--json'], {});
        await waitFor('the repair\'s ALTER to wait', async () => (await running(server, db.name, 'ALTER TABLE%task_map%')) > 0, 60_000);
        await endSession(server, (await lockHolder(app, db.appSpec))!);
        const result = await run.done;
        assert.equal(result.code, 12, result.stdout + result.stderr);
        assert.equal(result.json.error?.code, 'LOCK_LOST');
        assert.equal(await running(server, db.name, 'ALTER TABLE%task_map%'), 0, 'the ALTER was cancelled');
      } finally {
        await blocker.knex.raw(server.engine === 'mysql' ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
        await blocker.close();
      }
      assert.equal((await detectAirflowState(app)).kind, 'half-applied', 'the key is still to be made: nothing ran after the lock was lost');
      await app.close();
    });

    it('repair-airflow stops at --step-timeout: STEP_FAILED (exit 8) naming the limit, the waiting ALTER cancelled', async () => {
      const { db, url, blocker, app } = await blockedRepair(server);
      const started = Date.now();
      try {
        const result = await start(['repair-airflow', '--airflow-url', url, '--no-backup', '--step-timeout', '1m', '--json'], {}).done;
        assert.equal(result.code, 8, result.stdout + result.stderr);
        assert.equal(result.json.error?.code, 'STEP_FAILED');
        assert.match(result.json.error?.message ?? '', /ran past its time limit of 1m/);
        assert.ok(Date.now() - started < 90_000, `stopped after ${Date.now() - started} ms`);
        assert.equal(await running(server, db.name, 'ALTER TABLE%task_map%'), 0, 'the ALTER was cancelled');
      } finally {
        await blocker.knex.raw(server.engine === 'mysql' ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
        await blocker.close();
      }
      assert.equal(await lockHolder(app, db.appSpec), undefined, 'the lock was released');
      await app.close();
    });
  });
}
