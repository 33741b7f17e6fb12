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
      assert.equal(await airflowRevision(sc), 'd59cbbef95eb');
      assert.match(run.stdout, /om-migrate up: done/);
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

  it('no command after -- is a usage error (exit 2) before anything is migrated', async () => {
    const sc = await scenario(binlog().server);
    for (const args of [['entrypoint'], ['entrypoint', '--']]) {
      const run = await runCli(sc, args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /entrypoint needs the command to run/);
    }
    assert.equal(await ledgerRows(sc), undefined, 'nothing ran');
    assert.equal(await omVersion(sc), '1.10.2');
  });
});
