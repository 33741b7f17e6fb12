import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupFiles, ledgerRows, omVersion, parameterSnapshot, assertParametersAsBefore, runCli, upTestServers } from '../helpers/upHarness.js';

/**
 * What is pending comes from the installed distribution, not from --to: OpenMetadata's migrator has no target option
 * and migrates to everything its release carries (docs/facts/openmetadata.md, "Migration workflow"). A --to at or below
 * the database's version (or a stale OM_MIGRATE_TARGET_VERSION) with a newer distribution used to plan "nothing
 * pending", take no backup, raise nothing, and then let the migrator migrate anyway (issue 21, point 6).
 */
const { engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`a target below the installed distribution: ${engine.label}`, () => {
    for (const how of ['--to', 'OM_MIGRATE_TARGET_VERSION'] as const) {
      it(`${how} at the database's own version with a newer distribution blocks before anything changes (exit 4)`, async () => {
        const sc = await scenario(engine.server(), { release: '1.11.0' });
        const params = await parameterSnapshot(sc);
        const run = how === '--to'
          ? await runCli(sc, ['up', '--to', '1.10.2', '--json'])
          : await runCli(sc, ['up', '--json'], { OM_MIGRATE_TARGET_VERSION: '1.10.2' });
        assert.equal(run.code, 4, run.stdout + run.stderr);
        assert.equal(run.json.error.code, 'BLOCKED');
        assert.match(run.json.error.message, /1\.10\.2 is below what the distribution at .* migrates to \(1\.11\.0\)/);
        assert.match(run.json.error.hint, /leave --to out|OM_MIGRATE_TARGET_VERSION/);
        assert.equal(await omVersion(sc), '1.10.2', 'the migrator did not run');
        assert.deepEqual(backupFiles(sc), [], 'no backup was taken');
        assert.equal(await ledgerRows(sc), undefined, 'no ledger was written');
        await assertParametersAsBefore(sc, params);
      });
    }
  });
}
