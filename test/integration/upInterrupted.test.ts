import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AIRFLOW_STANDIN, type UpScenario } from '../fixtures/upScenario.js';
import {
  airflowRevision, alive, assertParametersAsBefore, backupFiles, childProcessGroups, killHard, ledgerByStep, ledgerRows,
  omVersion, parameterSnapshot, runCli, startCli, upTestServers, waitFor, type LiveRun,
} from '../helpers/upHarness.js';

/**
 * `up` interrupted: killed outright during a step (a container kill), stopped by SIGINT, and failed by its
 * OpenMetadata migrator. Each time the parameters must end where they were, and the next `up` must resume.
 */
const live: LiveRun[] = [];
// Registered before the servers' own after hook, so that no om-migrate run is left alive when they are dropped.
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
});
const { engines, scenario } = upTestServers();

function start(sc: UpScenario, args: string[], extra: NodeJS.ProcessEnv = {}): LiveRun {
  const run = startCli(sc, args, extra);
  live.push(run);
  return run;
}


/** The step's ledger row is `running` and its migrator has printed `line`: the kill lands inside the step. */
async function waitInsideStep(sc: UpScenario, run: LiveRun, step: string, line: RegExp): Promise<void> {
  await waitFor(`${step} running in the ledger`, async () =>
    (await ledgerRows(sc))?.some((r) => r.step === step && r.status === 'running'));
  await waitFor(`the migrator of ${step} to print ${line}`, () => line.test(run.output().stderr));
}

const steps = (json: { result: { steps: Array<{ name: string; status: string }> } }) => json.result.steps.map((s) => `${s.name}:${s.status}`);

for (const engine of engines) {
  describe(`up killed and resumed: ${engine.label}`, () => {
    it('SIGKILL during the OpenMetadata step: parameters stay raised and journaled; the next up puts them back, reuses the backup and resumes', async () => {
      // On MariaDB, a half-applied Airflow makes the repair the first step, so the resumed run has one already done.
      const mysql = engine.server().engine === 'mysql';
      const sc = await scenario(engine.server(), mysql ? { airflowStoppedAfter: 4 } : {});
      const params = await parameterSnapshot(sc);
      const first = start(sc, ['up'], { OM_STANDIN_SLEEP_MS: '60000' });
      await waitInsideStep(sc, first, 'openmetadata/server-migrate', /applied 1\.10\.5/);
      const groups = killHard(first);
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');
      assert.equal(groups.length, 1, 'one migrator was running');
      await waitFor('the migrator to die', () => !alive(groups[0]));

      // the values are still raised, and the journal says so
      assert.notDeepEqual(await parameterSnapshot(sc), params, 'the killed run could not put its parameters back');
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.ok(status.json.result.unreverted.length >= (mysql ? 2 : 2), JSON.stringify(status.json.result.unreverted));
      for (const u of status.json.result.unreverted) assert.equal(u.runActive, false, 'the killed run is not active');
      const parameters = status.json.result.unreverted.map((u: { parameter: string }) => u.parameter).sort();
      assert.deepEqual(parameters, mysql ? ['log_bin_trust_function_creators', 'sort_buffer_size'] : ['work_mem', 'work_mem']);
      const text = await runCli(sc, ['status']);
      assert.match(text.stdout, /unreverted: .*run om-migrate revert-params/);
      assert.match(text.stdout, /openmetadata\/server-migrate\s+running/);
      assert.equal(await omVersion(sc), '1.10.5');
      const dumpsAfterKill = backupFiles(sc).sort();

      // the second run: leftovers first, the same backup, the unfinished step again
      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const s = second.json.result;
      assert.equal(s.leftoversReverted, status.json.result.unreverted.length);
      assert.ok(s.backups.length === 2 && s.backups.every((b: { reused: boolean }) => b.reused), JSON.stringify(s.backups));
      assert.deepEqual(backupFiles(sc).sort(), dumpsAfterKill, 'no second dump');
      assert.deepEqual(steps(second.json), mysql
        ? ['airflow/repair-uuid-pk:already-done', 'openmetadata/server-migrate:done', 'airflow/db-migrate:done']
        : ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.match(s.steps.find((x: { name: string }) => x.name === 'openmetadata/server-migrate').detail, /1\.10\.5 → 1\.11\.0/);
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), 'd59cbbef95eb');
      await assertParametersAsBefore(sc, params);
      // the killed attempt is recorded as cut off, not left "running" for ever
      const rows = (await ledgerRows(sc))!;
      const ledger = ledgerByStep(rows);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['failed', 'done']);
      assert.match(rows.find((r) => r.step === 'openmetadata/server-migrate' && r.status === 'failed')!.outputTail ?? '', /interrupted/);
      assert.deepEqual(ledger['backup/openmetadata'], ['done']);
      assert.ok(!rows.some((r) => r.status === 'running'));
      const after = await runCli(sc, ['status', '--json']);
      assert.deepEqual(after.json.result.unreverted, []);
    });

    it('SIGKILL during the Airflow step: the resumed run shows the OpenMetadata step already done and does not re-run it', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      // The Airflow migrator is the configured command: one that takes its time before the real (stand-in) work.
      const slowAirflow = `echo waiting; sleep 60; exec ${process.execPath} ${AIRFLOW_STANDIN}`;
      const first = start(sc, ['up'], { OM_MIGRATE_AIRFLOW_COMMAND: slowAirflow });
      await waitInsideStep(sc, first, 'airflow/db-migrate', /waiting/);
      killHard(first);
      await first.done;
      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      assert.deepEqual(steps(second.json), ['openmetadata/server-migrate:already-done', 'airflow/db-migrate:done']);
      assert.ok(second.json.result.backups.every((b: { reused: boolean }) => b.reused));
      const ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['done'], 'the OpenMetadata migrator ran once');
      assert.deepEqual(ledger['airflow/db-migrate'], ['failed', 'done'], 'the killed attempt, then the resumed one');
      assert.equal(await airflowRevision(sc), 'd59cbbef95eb');
      await assertParametersAsBefore(sc, params);
    });
  });

  describe(`up interrupted by SIGINT: ${engine.label}`, () => {
    it('exits 130, stops the migrator, puts every parameter back', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = start(sc, ['up'], { OM_STANDIN_SLEEP_MS: '60000' });
      await waitInsideStep(sc, run, 'openmetadata/server-migrate', /applied 1\.10\.5/);
      const [migrator] = childProcessGroups(run.child.pid!);
      assert.ok(migrator && alive(migrator));
      assert.notDeepEqual(await parameterSnapshot(sc), params, 'raised while the step runs');
      run.child.kill('SIGINT');
      const result = await run.done;
      assert.equal(result.code, 130, result.stdout + result.stderr);
      assert.match(result.stderr, /interrupted by SIGINT/);
      await waitFor('the migrator to be stopped', () => !alive(migrator), 5000);
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.5', 'the migrator did not go on to 1.11.0');
      // The same failure as one JSON document: the error, and how far the run got.
      const failedJson = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(failedJson.code, 8);
      assert.equal(failedJson.json.error.code, 'STEP_FAILED');
      const progress = failedJson.json.error.details.progress;
      assert.deepEqual(progress.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`).filter((x: string) => x.startsWith('openmetadata')),
        ['openmetadata/server-migrate:failed']);
      assert.ok(progress.backups.length >= 1 && progress.backups.every((f: string) => backupFiles(sc).some((b) => f.endsWith(b))));
      const status = await runCli(sc, ['status', '--json']);
      assert.deepEqual(status.json.result.unreverted, []);
      assert.equal(status.json.result.databases[0].lock, null, 'the lock went with the run');
    });
  });

  describe(`up with a failing OpenMetadata migrator: ${engine.label}`, () => {
    it('exits 8 naming the migrator\'s exit and the version reached, parameters restored; fixed, the next up resumes', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const failed = await runCli(sc, ['up'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      assert.match(failed.stderr, /OpenMetadata's migrator exited with 1; the database is at 1\.10\.5/);
      assert.match(failed.stderr, /migration 1\.11\.0 failed/, 'the migrator\'s own output is shown');
      await assertParametersAsBefore(sc, params);
      let ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['failed']);
      assert.equal(ledger['airflow/db-migrate'], undefined, 'the Airflow step did not start');
      const status = await runCli(sc, ['status', '--json']);
      assert.deepEqual(status.json.result.unreverted, []);
      const failedRow = status.json.result.databases[0].ledger.find((e: { step: string }) => e.step === 'openmetadata/server-migrate');
      assert.match(failedRow.outputTail, /migration 1\.11\.0 failed/);

      const again = await runCli(sc, ['up', '--json']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual(steps(again.json), ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.ok(again.json.result.backups.every((b: { reused: boolean }) => b.reused), 'the first run\'s verified backup is reused');
      assert.equal(await omVersion(sc), '1.11.0');
      await assertParametersAsBefore(sc, params);
      ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['failed', 'done']);
      assert.deepEqual(ledger['airflow/db-migrate'], ['done']);

      // once everything is done, a further up runs no migrator a second time for the same target
      const third = await runCli(sc, ['up', '--json']);
      assert.equal(third.code, 0, third.stdout + third.stderr);
      assert.ok(third.json.result.steps.every((x: { status: string }) => x.status === 'already-done'), JSON.stringify(third.json.result.steps));
      assert.deepEqual(ledgerByStep((await ledgerRows(sc))!)['airflow/db-migrate'], ['done'], 'the Airflow step is not re-run');
    });
  });
}
