import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { verifyBackup } from '../../src/backup/index.js';
import { seedEntities } from '../fixtures/openmetadata/entities.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';
import { airflowRevision, assertParametersAsBefore, omVersion, parameterSnapshot, runCli, upTestServers } from '../helpers/upHarness.js';

/**
 * `--jobs` through the CLI (issue 26): `rehearse --jobs 2` and `up --jobs 2` on both engines take parallel backups
 * (directories with version 2 manifests), the rehearsal restores its copy from one, and `up` migrates after it, with the
 * faithful stand-ins and the parameters put back.
 */
const servers = upTestServers();

for (const engine of servers.engines) {
  describe(`up and rehearse --jobs 2: ${engine.label}`, () => {
    it('rehearse --jobs 2 restores its copy from a parallel backup; up --jobs 2 backs up in parallel, then migrates', async () => {
      const sc = await servers.scenario(engine.server());
      await seedEntities(sc.om, 20);
      const params = await parameterSnapshot(sc);

      // The plan preflight shows is the one up runs: a directory per database.
      const preflight = await runCli(sc, ['preflight', '--dry-run', '--jobs', '2', '--json']);
      assert.equal(preflight.code, 0, preflight.stdout + preflight.stderr);
      const planned = preflight.json.result.plan.backups as Array<{ file: string }>;
      assert.equal(planned.length, 2);
      for (const b of planned) assert.match(b.file, /-\d{8}T\d{6}Z\.(sql|dump)\.d$/);

      const rehearsal = await runCli(sc, ['rehearse', '--jobs', '2', '--json']);
      assert.equal(rehearsal.code, 0, rehearsal.stdout + rehearsal.stderr);
      assert.equal(rehearsal.json.result.outcome, 'passed');
      for (const c of rehearsal.json.result.copies as Array<{ manifest: string; backupSource: string }>) {
        assert.equal(c.backupSource, 'taken-now');
        const check = await verifyBackup(c.manifest, { env: process.env });
        assert.ok(check.ok, check.problems.join('; '));
        assert.equal(check.manifest.manifestVersion, 2);
        assert.equal(check.manifest.jobs, 2);
      }

      const up = await runCli(sc, ['up', '--jobs', '2', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const backups = up.json.result.backups as Array<{ file: string; manifest: string; reused: boolean }>;
      assert.equal(backups.length, 2);
      for (const b of backups) {
        assert.ok(statSync(b.file).isDirectory(), `${b.file} is the backup's directory`);
        const check = await verifyBackup(b.manifest, { env: process.env });
        assert.ok(check.ok, check.problems.join('; '));
        assert.equal(check.manifest.manifestVersion, 2);
        assert.deepEqual(readdirSync(b.file).sort(), check.manifest.files!.map((f) => f.name).sort());
      }
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      await assertParametersAsBefore(sc, params);

      const bad = await runCli(sc, ['backup', '--jobs', '0', '--json']);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.json.error.message, /--jobs "0" is not a whole number from 1 to 64/);
    });
  });
}
