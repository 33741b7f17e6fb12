import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { runLockName } from '../../../src/lock/lockName.js';
import { adminUrl } from '../../fixtures/upScenario.js';
import {
  assertParametersAsBefore, backupFiles, ledgerRows, omVersion, parameterSnapshot, runCli, upTestServers,
} from '../../helpers/upHarness.js';

/**
 * Every argument that can be checked is checked before the run lock is taken and before anything is touched. To prove
 * "before the lock", another session holds it throughout: an argument checked after the lock would answer exit 5.
 */
const { engines, scenario } = upTestServers();
const dir = mkdtempSync(join(tmpdir(), 'omm-badargs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const engine of engines) {
  describe(`bad arguments refused before the lock: ${engine.label}`, () => {
    it('--to "", --to 99.0.0, a missing wrapped command, absurd sizes and durations: refused, nothing changed', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const holder = await connect(sc.om.appSpec);
      try {
        assert.equal(await holder.lock(runLockName(sc.om.appSpec)).tryAcquire(0), true, 'another session holds the lock');
        const cases: Array<{ args: string[]; code: number; message: RegExp }> = [
          { args: ['up', '--to', ''], code: 2, message: /--to is empty/ },
          { args: ['up', '--to', '99.0.0'], code: 4, message: /--to 99\.0\.0 is beyond what the distribution .* can migrate to \(1\.11\.0\)/ },
          { args: ['up', '--sort-buffer-size', '999999G'], code: 2, message: /--sort-buffer-size/ },
          { args: ['up', '--work-mem', '999999G'], code: 2, message: /--work-mem/ },
          { args: ['up', '--lock-timeout', '99999999999999999999d'], code: 2, message: /--lock-timeout/ },
          { args: ['up', '--step-timeout', '0s'], code: 2, message: /--step-timeout/ },
          { args: ['entrypoint', '--', '/nonexistent/openmetadata-start.sh'], code: 2, message: /entrypoint cannot run \/nonexistent\/openmetadata-start\.sh/ },
        ];
        for (const c of cases) {
          const run = await runCli(sc, c.args);
          assert.equal(run.code, c.code, `${c.args.join(' ')}: ${run.stdout}${run.stderr}`);
          assert.match(run.stderr, c.message, c.args.join(' '));
          assert.doesNotMatch(run.stderr, /another om-migrate is running/, `${c.args.join(' ')} was refused before the lock`);
        }
        const fromEnv = await runCli(sc, ['up'], { OM_MIGRATE_TARGET_VERSION: '' , OM_MIGRATE_SORT_BUFFER_SIZE: '999999G' });
        assert.equal(fromEnv.code, 2, fromEnv.stdout + fromEnv.stderr);
        assert.match(fromEnv.stderr, /OM_MIGRATE_SORT_BUFFER_SIZE|OM_MIGRATE_TARGET_VERSION/, 'the message names the environment variable');
        await holder.lock(runLockName(sc.om.appSpec)).release();
      } finally {
        await holder.close();
      }
      assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
      assert.deepEqual(backupFiles(sc), [], 'no backup');
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.2');
    });

    it('--admin-url-file beats OM_MIGRATE_ADMIN_URL, and a failure names the flag as its source', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const bad = sc.server.engine === 'mysql'
        ? adminUrl({ ...sc.server.admin, password: 'wrong-admin-pw-123' })
        : adminUrl({ ...sc.server.admin, user: 'omm_no_such_admin' });
      const file = join(dir, `admin-url-${sc.om.name}`);
      writeFileSync(file, `${bad}\n`, { mode: 0o600 });
      // The environment's URL is the good one: were it used, preflight would pass the admin check.
      const run = await runCli(sc, ['preflight', '--json', '--admin-url-file', file]);
      const text = JSON.stringify(run.json);
      assert.notEqual(run.code, 0, text);
      assert.match(text, new RegExp(`--admin-url-file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), 'the flag\'s URL was used, and named');
      assert.match(text, /the user and password in --admin-url-file/, 'the hint points at the flag, not DB_USER');
      assert.doesNotMatch(text, /wrong-admin-pw-123/);
      const up = await runCli(sc, ['up', '--admin-url-file', file]);
      assert.notEqual(up.code, 0);
      assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.2');
    });
  });
}
