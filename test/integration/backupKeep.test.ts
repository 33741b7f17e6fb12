import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BackupManifest } from '../../src/backup/BackupManifest.js';
import type { UpScenario } from '../fixtures/upScenario.js';
import { omVersion, runCli, upTestServers } from '../helpers/upHarness.js';

/**
 * `--keep N` never costs the state before an upgrade: `up` prunes only once the whole run succeeded, and neither `up`
 * nor `backup` removes a backup of a run that did not finish (the ledger knows which runs those are).
 */
const { engines, scenario } = upTestServers();

interface Kept { file: string; database: string; runId: string | null }

/** The om-migrate backups in the scenario's directory, by their manifests. */
function backups(sc: UpScenario): Kept[] {
  return readdirSync(sc.backupDir).filter((f) => f.endsWith('.manifest.json')).map((f) => {
    const m = JSON.parse(readFileSync(join(sc.backupDir, f), 'utf8')) as BackupManifest;
    return { file: m.file, database: m.database, runId: m.runId ?? null };
  }).sort((a, b) => a.file.localeCompare(b.file));
}

const files = (list: Kept[]) => list.map((b) => b.file).sort();

for (const engine of engines) {
  describe(`--keep and unfinished runs: ${engine.label}`, () => {
    it('up --keep 1 that fails prunes nothing; its backup survives the resumed up, a later success and backup --keep 1', async () => {
      const sc = await scenario(engine.server());
      // An operator's earlier backup (om-migrate backup): a finished run's kind of backup, prunable.
      const plain = await runCli(sc, ['backup', '--json']);
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      const earlier = backups(sc);
      assert.equal(earlier.length, 2);
      await new Promise((r) => setTimeout(r, 1100));

      // The first up: backup A of the state before the upgrade, then its migrator fails half way (1.10.5 reached).
      const first = await runCli(sc, ['up', '--json', '--keep', '1'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(first.code, 8, first.stdout + first.stderr);
      const runA = first.json.error.details.progress.runId as string;
      const a = backups(sc).filter((b) => b.runId === runA);
      assert.equal(a.length, 2, 'a backup of each database');
      assert.deepEqual(files(backups(sc)), files([...earlier, ...a]), 'an up that failed pruned nothing');
      await new Promise((r) => setTimeout(r, 1100));

      // The operator runs it again: the OpenMetadata database changed, so a new backup B of the half-migrated state;
      // this one fails too.
      const second = await runCli(sc, ['up', '--json', '--keep', '1'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(second.code, 8, second.stdout + second.stderr);
      const runB = second.json.error.details.progress.runId as string;
      const b = backups(sc).filter((x) => x.runId === runB);
      assert.ok(b.some((x) => x.database === sc.om.name), 'a new backup of the changed database');
      for (const kept of [...earlier, ...a]) assert.ok(files(backups(sc)).includes(kept.file), `${kept.file} is still there`);
      await new Promise((r) => setTimeout(r, 1100));

      // The third up succeeds: now --keep applies, to everything but the unfinished runs' backups.
      const third = await runCli(sc, ['up', '--json', '--keep', '1']);
      assert.equal(third.code, 0, third.stdout + third.stderr);
      assert.equal(await omVersion(sc), '1.11.0');
      const now = files(backups(sc));
      for (const kept of [...a, ...b]) assert.ok(now.includes(kept.file), `the unfinished run's ${kept.file} is kept`);
      for (const gone of earlier) assert.ok(!now.includes(gone.file), `${gone.file} (om-migrate backup) was pruned after the success`);
      await new Promise((r) => setTimeout(r, 1100));

      // backup --keep 1: its own new backup, and still the unfinished runs'; the successful run's (if it took one) goes.
      const last = await runCli(sc, ['backup', '--json', '--keep', '1']);
      assert.equal(last.code, 0, last.stdout + last.stderr);
      const after = backups(sc);
      const unfinished = new Set([runA, runB]);
      for (const kept of [...a, ...b]) assert.ok(files(after).includes(kept.file), `the unfinished run's ${kept.file} is kept`);
      const others = after.filter((x) => !x.runId || !unfinished.has(x.runId));
      assert.deepEqual(others.map((x) => x.runId), [null, null], `only the new backup of each database besides them: ${JSON.stringify(after)}`);
    });
  });
}
