import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { connect } from '../../src/dialects/connect.js';
import { isOmMigrateError } from '../../src/errors.js';
import type { ConnectedTarget } from '../../src/core/Gate.js';
import { runLockName } from '../../src/lock/lockName.js';
import { acquireRunLock, describeLockHolder } from '../../src/lock/runLock.js';
import { createScratchDatabase, ScratchDatabase, SERVERS } from '../helpers/servers.js';

const CHILD = fileURLToPath(new URL('../fixtures/paramsChild.js', import.meta.url));
const journalDir = mkdtempSync(join(tmpdir(), 'omm-lock-journal-'));

async function connectTarget(spec: ConnectionSpec): Promise<ConnectedTarget> {
  const dialect = await connect(spec, { purpose: 'up' });
  return { role: 'openmetadata', spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
}

after(() => rmSync(journalDir, { recursive: true, force: true }));

for (const server of SERVERS) {
  describe(`run lock: ${server.label}`, () => {
    let db: ScratchDatabase;
    const open: ConnectedTarget[] = [];
    const target = async () => {
      const t = await connectTarget(db.appSpec);
      open.push(t);
      return t;
    };

    after(async () => {
      await Promise.allSettled(open.map((t) => t.dialect.close()));
      await db?.drop();
    });

    it('a second run gets LOCK_HELD naming the holder (host, pid, start), and gets it once released', async () => {
      db = await createScratchDatabase(server, 'ommlock');
      const first = await target();
      const second = await target();
      const lock = await acquireRunLock([first], 0, { command: 'up' });
      try {
        await assert.rejects(acquireRunLock([second], 0), (error: unknown) => {
          assert.ok(isOmMigrateError(error));
          assert.equal(error.code, 'LOCK_HELD');
          assert.match(error.message, new RegExp(`pid=${process.pid} on ${hostname()} since ${lock.startedAt.slice(0, 10)}`));
          assert.match(error.message, new RegExp(lock.runId));
          return true;
        });
        const holder = await describeLockHolder(second);
        assert.equal(holder?.runId, lock.runId);
        assert.equal(holder?.pid, process.pid);
      } finally {
        await lock.release();
      }
      const again = await acquireRunLock([second], 0);
      await again.release();
      assert.equal(await describeLockHolder(second), undefined);
    });

    it('LOCK_HELD never says a gone holder\'s lock "is already free": it names the session, what it runs, and how to end it', async () => {
      // A holder whose session is still executing a statement (as an om-migrate before issue 25 ran its repair on the
      // lock's own session, and as a killed process's statement goes on on the server).
      const holder = await connect(db.appSpec); // the same account, as a killed om-migrate of this installation
      const holderId = await holder.runs.connectionId();
      await holder.lock(runLockName(db.appSpec)).tryAcquire(0);
      const busy = (server.engine === 'mysql' ? holder.knex.raw('SELECT SLEEP(30)') : holder.knex.raw('SELECT pg_sleep(30)')).catch(() => undefined);
      try {
        const t = await target();
        for (let i = 0; i < 50 && !(await t.dialect.lock(runLockName(db.appSpec)).holder())?.statement; i += 1) await new Promise((r) => setTimeout(r, 100));
        await assert.rejects(acquireRunLock([t], 0), (error: unknown) => {
          assert.ok(isOmMigrateError(error));
          assert.equal(error.code, 'LOCK_HELD');
          assert.doesNotMatch(error.hint ?? '', /already free/);
          assert.match(error.hint ?? '', new RegExp(`server session ${holderId}, which is still running: SELECT (SLEEP|pg_sleep)\\(30\\)`));
          assert.match(error.hint ?? '', server.engine === 'mysql' ? new RegExp(`KILL ${holderId}\\b`) : new RegExp(`pg_terminate_backend\\(${holderId}\\)`));
          return true;
        });
      } finally {
        if (server.engine === 'mysql') await db.root.knex.raw(`KILL ${Number(holderId)}`);
        else await db.root.knex.raw('SELECT pg_terminate_backend(?)', [Number(holderId)]);
        await busy;
        await holder.close().catch(() => undefined);
      }
    });

    it('--lock-timeout waits for the holder to finish', async () => {
      const first = await target();
      const second = await target();
      const lock = await acquireRunLock([first], 0);
      setTimeout(() => void lock.release(), 600);
      const started = Date.now();
      const got = await acquireRunLock([second], 5000);
      assert.ok(Date.now() - started >= 400);
      await got.release();
    });

    it('a SIGKILLed holder frees the lock at once; its stale holder row is not reported', async () => {
      const child = spawn(process.execPath, [CHILD], {
        env: {
          PATH: process.env.PATH,
          OMM_CHILD: JSON.stringify({ targets: [{ role: 'openmetadata', spec: db.appSpec }], bytes: 1, scope: 'database', journalDir }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise((r) => child.once('exit', r));
      for (let i = 0; i < 200 && !out.includes('APPLIED'); i += 1) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /APPLIED/);
      const t = await target();
      await assert.rejects(acquireRunLock([t], 0), new RegExp(`pid=${child.pid}`));
      child.kill('SIGKILL');
      await exited;
      let lock;
      for (let i = 0; i < 40 && !lock; i += 1) {
        lock = await acquireRunLock([t], 0).catch(() => undefined);
        if (!lock) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(lock, 'the lock was free right after the kill');
      const holder = await describeLockHolder(t);
      assert.equal(holder?.pid, process.pid, 'the holder now is this process, not the killed one');
      await lock.release();
    });
  });
}
