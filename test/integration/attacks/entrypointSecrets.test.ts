import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminUrl, type UpScenario } from '../../fixtures/upScenario.js';
import { omVersion, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * `entrypoint` stays the server's parent for the server's whole life (Node cannot exec), and the server runs as the
 * same user: whatever om-migrate's /proc/<pid>/cmdline and /proc/<pid>/environ hold, the server (and `ps`) can read.
 * An admin URL with a password on the command line is scrubbed from the command line as soon as om-migrate starts; one
 * in the environment cannot be scrubbed (the kernel shows the environment om-migrate started with), so `entrypoint`
 * refuses it unless the operator opts in, and points to the file form.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PG_SECRET = 'Adm1n-S3cret-in-argv';

function secretAdmin(sc: UpScenario): { url: string; secret: string } {
  if (sc.server.engine === 'postgres') return { url: adminUrl({ ...sc.server.admin, password: PG_SECRET }), secret: PG_SECRET };
  return { url: adminUrl(sc.server.admin), secret: sc.server.admin.password! };
}

/** The wrapped command: copies its parent's (om-migrate's) command line and environment, as the server could. */
function spy(dir: string): string[] {
  return ['/bin/sh', '-c', `cat /proc/$PPID/cmdline > '${dir}/cmdline'; cat /proc/$PPID/environ > '${dir}/environ'`];
}

for (const engine of engines) {
  describe(`entrypoint and the admin password: ${engine.label}`, () => {
    it('an admin URL with a password in the environment is refused (exit 2, the fix named); nothing migrated, nothing started', async () => {
      const sc = await scenario(engine.server());
      const dir = mkdtempSync(join(tmpdir(), 'omm-entry-secret-'));
      dirs.push(dir);
      const admin = secretAdmin(sc);
      const before = await omVersion(sc);
      const run = await runCli(sc, ['entrypoint', '--', ...spy(dir)], { OM_MIGRATE_ADMIN_URL: admin.url, OM_MIGRATE_ALLOW_ADMIN_URL_ENV: '' });
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /OM_MIGRATE_ADMIN_URL_FILE/);
      assert.ok(!run.stderr.includes(admin.secret));
      assert.ok(!existsSync(join(dir, 'cmdline')), 'the wrapped command never started');
      assert.equal(await omVersion(sc), before, 'nothing was migrated');

      const airflow = await runCli(sc, ['entrypoint', '--', ...spy(dir)], { OM_MIGRATE_ADMIN_URL: '', OM_MIGRATE_AIRFLOW_ADMIN_URL: admin.url, OM_MIGRATE_ALLOW_ADMIN_URL_ENV: '' });
      assert.equal(airflow.code, 2, airflow.stdout + airflow.stderr);
      assert.match(airflow.stderr, /OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE/);
    });

    it('--admin-url with a password: the server reads no password in om-migrate\'s /proc/<pid>/cmdline or environ', async () => {
      const sc = await scenario(engine.server());
      const dir = mkdtempSync(join(tmpdir(), 'omm-entry-secret-'));
      dirs.push(dir);
      const admin = secretAdmin(sc);
      const run = await runCli(sc, ['entrypoint', '--admin-url', admin.url, '--', ...spy(dir)], { OM_MIGRATE_ADMIN_URL: '', OM_MIGRATE_ALLOW_ADMIN_URL_ENV: '' });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(await omVersion(sc), '1.11.0');
      const cmdline = readFileSync(join(dir, 'cmdline'), 'utf8');
      assert.match(cmdline, /entrypoint/, `the command line is still there: ${cmdline.replace(/\0+/g, ' ')}`);
      assert.ok(!cmdline.includes(admin.secret), `no password in /proc/<om-migrate>/cmdline: ${cmdline.replace(/\0+/g, ' ')}`);
      assert.ok(!readFileSync(join(dir, 'environ'), 'utf8').includes(admin.secret), 'nor in its environ');
    });

    it('the file form (OM_MIGRATE_ADMIN_URL_FILE): accepted, and the password is in neither', async () => {
      const sc = await scenario(engine.server());
      const dir = mkdtempSync(join(tmpdir(), 'omm-entry-secret-'));
      dirs.push(dir);
      const admin = secretAdmin(sc);
      const file = join(dir, 'admin-url');
      writeFileSync(file, `${admin.url}\n`, { mode: 0o600 });
      const run = await runCli(sc, ['entrypoint', '--', ...spy(dir)], { OM_MIGRATE_ADMIN_URL: '', OM_MIGRATE_ADMIN_URL_FILE: file, OM_MIGRATE_ALLOW_ADMIN_URL_ENV: '' });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      for (const what of ['cmdline', 'environ']) {
        assert.ok(!readFileSync(join(dir, what), 'utf8').includes(admin.secret), `no password in /proc/<om-migrate>/${what}`);
      }
    });
  });
}
