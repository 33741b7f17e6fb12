import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import { runLockName } from '../../src/lock/lockName.js';
import {
  airflowRevision, assertParametersAsBefore, backupFiles, ledgerRows, omVersion, parameterSnapshot, runCli, startCli, upTestServers,
  waitFor,
} from '../helpers/upHarness.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';

/** `up` against a lock held by another session, and the container entrypoint around `up`. */
const markerDir = mkdtempSync(join(tmpdir(), 'omm-entrypoint-'));
const { binlog, engines, scenario } = upTestServers();
after(() => rmSync(markerDir, { recursive: true, force: true }));

for (const engine of engines) {
  describe(`up against a held lock: ${engine.label}`, () => {
    for (const role of ['openmetadata', 'airflow'] as const) {
      it(`another session holds om-migrate:<${role} database>: exit 5 naming the holder, nothing changed`, async () => {
        const sc = await scenario(engine.server());
        const params = await parameterSnapshot(sc);
        const spec = role === 'openmetadata' ? sc.om.appSpec : sc.airflow.appSpec;
        const other = await connect(spec);
        try {
          const lock = other.lock(runLockName(spec));
          assert.equal(await lock.tryAcquire(0), true);
          const holderId = await other.runs.connectionId();
          const run = await runCli(sc, ['up', '--json']);
          assert.equal(run.code, 5, run.stdout + run.stderr);
          assert.equal(run.json.error.code, 'LOCK_HELD');
          assert.match(run.json.error.message, new RegExp(`another om-migrate is running on ${spec.database}`));
          // PostgreSQL keeps the session's application_name (om-migrate's connect() sets it: this test process's pid);
          // MariaDB without performance_schema only knows the connection id.
          assert.match(run.json.error.message, engine.server().engine === 'postgres'
            ? new RegExp(`pid=${process.pid} on `) : new RegExp(`server connection ${holderId}\\b`), 'names the holding session');
          assert.equal(run.json.error.details.holder.connectionId, holderId);
          const text = await runCli(sc, ['up']);
          assert.equal(text.code, 5);
          assert.match(text.stderr, /fix: .*--lock-timeout/);
          await lock.release();
        } finally {
          await other.close();
        }
        assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
        assert.deepEqual(backupFiles(sc), []);
        await assertParametersAsBefore(sc, params);
        assert.equal(await omVersion(sc), '1.10.2');
        assert.equal(await airflowRevision(sc), '05234396c6fc');
      });
    }
  });

  describe(`entrypoint: ${engine.label}`, () => {
    it('runs up, then the wrapped command, and exits with the wrapped command\'s status', async () => {
      const sc = await scenario(engine.server());
      const marker = join(markerDir, `ran-${sc.om.name}`);
      const run = await runCli(sc, ['entrypoint', '--', process.execPath, '-e',
        `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(7)`]);
      assert.equal(run.code, 7, run.stdout + run.stderr);
      assert.ok(existsSync(marker), 'the wrapped command ran');
      assert.equal(await omVersion(sc), '1.11.0', 'after the migration');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      assert.match(run.stdout, /om-migrate up: migrated/);
    });

    it('on every restart after that, nothing pending: no backup, no parameter change, one line, then the wrapped command', async () => {
      const sc = await scenario(engine.server());
      assert.equal((await runCli(sc, ['entrypoint', '--', process.execPath, '-e', 'process.exit(0)'])).code, 0);
      const params = await parameterSnapshot(sc);
      const files = backupFiles(sc).sort();
      const restart = await runCli(sc, ['entrypoint', '--', process.execPath, '-e', 'process.exit(3)']);
      assert.equal(restart.code, 3, restart.stdout + restart.stderr);
      assert.match(restart.stdout, /om-migrate up: nothing pending/);
      assert.deepEqual(backupFiles(sc).sort(), files, 'no backup');
      await assertParametersAsBefore(sc, params);
    });

    it('waits for another pod\'s lock (10 minutes by default) instead of failing, then finds nothing to do', async () => {
      const sc = await scenario(engine.server());
      assert.equal((await runCli(sc, ['up'])).code, 0);
      const other = await connect(sc.om.appSpec);
      const lock = other.lock(runLockName(sc.om.appSpec));
      assert.equal(await lock.tryAcquire(0), true);
      const waiting = startCli(sc, ['entrypoint', '--', process.execPath, '-e', 'process.exit(0)']);
      await waitFor('the entrypoint to wait for the lock', () => /waiting up to 600 s/.test(waiting.output().stdout), 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(waiting.child.exitCode, null, 'still waiting, not failed');
      await lock.release();
      await other.close();
      const run = await waiting.done;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /nothing pending/);
    });

    it('forwards SIGTERM to the wrapped command and exits with its status', async () => {
      const sc = await scenario(engine.server());
      const ready = join(markerDir, `ready-${sc.om.name}`);
      const got = join(markerDir, `sigterm-${sc.om.name}`);
      const live = startCli(sc, ['entrypoint', '--', process.execPath, '-e',
        `const fs = require('node:fs'); process.on('SIGTERM', () => { fs.writeFileSync(${JSON.stringify(got)}, 'x'); process.exit(42); });` +
        ` fs.writeFileSync(${JSON.stringify(ready)}, 'x'); setInterval(() => {}, 1000);`]);
      await waitFor('the wrapped command to start', () => existsSync(ready), 60_000);
      live.child.kill('SIGTERM');
      const run = await live.done;
      assert.equal(run.code, 42, run.stdout + run.stderr);
      assert.ok(existsSync(got), 'the wrapped command received SIGTERM');
    });

    it('configured from the environment alone: the wrapped command sees the migrated database', async () => {
      const sc = await scenario(engine.server());
      const run = await runCli(sc, ['entrypoint', '--', process.execPath, '-e', 'process.exit(0)']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(await omVersion(sc), '1.11.0');
    });
  });
}

describe('entrypoint refuses: MariaDB with binary logging', () => {
  it('a blocked up exits 4 and never starts the wrapped command', async () => {
    const sc = await scenario(binlog().server, { admin: false });
    const params = await parameterSnapshot(sc);
    const marker = join(markerDir, `blocked-${sc.om.name}`);
    const run = await runCli(sc, ['entrypoint', '--', process.execPath, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`]);
    assert.equal(run.code, 4, run.stdout + run.stderr);
    assert.equal(existsSync(marker), false, 'the wrapped command never ran');
    assert.match(run.stderr, /block the upgrade/);
    await assertParametersAsBefore(sc, params);
    assert.equal(await omVersion(sc), '1.10.2');
  });

  it('a failed step exits 8 and never starts the wrapped command', async () => {
    const sc = await scenario(binlog().server);
    const marker = join(markerDir, `failed-${sc.om.name}`);
    const run = await runCli(sc, ['entrypoint', '--', process.execPath, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
      { OM_STANDIN_FAIL_AT: '1.11.0' });
    assert.equal(run.code, 8, run.stdout + run.stderr);
    assert.equal(existsSync(marker), false, 'the wrapped command never ran');
  });

  it('no command after --, or one that cannot be started, is a usage error (exit 2) before anything is migrated', async () => {
    const sc = await scenario(binlog().server);
    const missing = await runCli(sc, ['entrypoint', '--', '/nonexistent/openmetadata-start.sh']);
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.match(missing.stderr, /entrypoint cannot run \/nonexistent\/openmetadata-start\.sh: no such file/);
    for (const args of [['entrypoint'], ['entrypoint', '--']]) {
      const run = await runCli(sc, args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /entrypoint needs the command to run/);
    }
    assert.equal(await ledgerRows(sc), undefined, 'nothing ran');
    assert.equal(await omVersion(sc), '1.10.2');
  });
});
