import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AIRFLOW_HEAD, type UpScenario } from '../fixtures/upScenario.js';
import { controlsEnv } from '../fixtures/airflow/python/pythonAirflow.js';
import { seedEntities } from '../fixtures/openmetadata/entities.js';
import {
  airflowRevision, alive, assertParametersAsBefore, backupFiles, childProcessGroups, killHard, ledgerByStep, ledgerRows,
  omVersion, parameterSnapshot, runCli, startCli, upTestServers, waitFor, type LiveRun,
} from '../helpers/upHarness.js';

/**
 * `up` interrupted: killed outright during a step, stopped by SIGINT, failed by its OpenMetadata migrator. Each time the
 * parameters must end where they were, the migrator must not outlive om-migrate, and the next `up` must re-plan from
 * the live database (only a backup of an unchanged database is ever taken over) and finish the upgrade.
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
  await waitFor(`the migrator of ${step} to print ${line}`, () => line.test(run.output().stderr), 60_000);
}

/** SIGKILL to om-migrate alone, as the OOM killer or a `kill -9` of the main process does: its children are not told. */
async function killOmMigrateOnly(run: LiveRun): Promise<number[]> {
  const groups = childProcessGroups(run.child.pid!);
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL');
  return groups;
}

const steps = (json: { result: { steps: Array<{ name: string; status: string }> } }) => json.result.steps.map((s) => `${s.name}:${s.status}`);

for (const engine of engines) {
  describe(`up killed and resumed: ${engine.label}`, () => {
    it('SIGKILL of om-migrate during the OpenMetadata step: the migrator dies with it, the parameters stay journaled, the next up puts them back and finishes from the live state', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const first = start(sc, ['up'], { OM_STANDIN_SLEEP_MS: '60000' });
      await waitInsideStep(sc, first, 'openmetadata/server-migrate', /Migration Run finished for Version: 1\.10\.3/);
      const groups = await killOmMigrateOnly(first);
      assert.equal(groups.length, 1, 'one migrator was running');
      await waitFor('the migrator to die with om-migrate', () => !alive(groups[0]), 20_000);

      // the values are still raised, and the journal says so
      assert.notDeepEqual(await parameterSnapshot(sc), params, 'the killed run could not put its parameters back');
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      const unreverted = status.json.result.unreverted;
      for (const u of unreverted) assert.equal(u.runActive, false, 'the killed run is not active');
      assert.deepEqual(unreverted.map((u: { parameter: string }) => u.parameter).sort(),
        engine.server().engine === 'mysql' ? ['log_bin_trust_function_creators', 'sort_buffer_size'] : ['work_mem']);
      const text = await runCli(sc, ['status']);
      assert.match(text.stdout, /unreverted: .*run om-migrate revert-params/);
      const reached = await omVersion(sc);
      assert.ok(reached === '1.10.3', `the killed migrator got no further: ${reached}`);

      // the second run: leftovers first; the database changed since the first run's backup, so a fresh one
      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const s = second.json.result;
      assert.equal(s.leftoversReverted, unreverted.length);
      assert.ok(s.backups.length === 2 && s.backups.every((b: { reused: boolean }) => !b.reused), JSON.stringify(s.backups));
      assert.deepEqual(steps(second.json), ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.match(s.steps[0].detail, /1\.10\.3 → 1\.11\.0/);
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      await assertParametersAsBefore(sc, params);
      // the killed run is recorded as cut off, not left "running" for ever, and not called failed
      const rows = (await ledgerRows(sc))!;
      const ledger = ledgerByStep(rows);
      assert.deepEqual(ledger.run, ['interrupted', 'done']);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['interrupted', 'done']);
      assert.ok(!rows.some((r) => r.status === 'running'));
      const after = await runCli(sc, ['status', '--json']);
      assert.deepEqual(after.json.result.unreverted, []);
    });

    it('SIGKILL during the Airflow step: Airflow\'s migrator dies too, and the next up runs it again (never "already done")', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const first = start(sc, ['up'], controlsEnv({ sleepAtStep: 3, sleepSeconds: 60 }));
      await waitInsideStep(sc, first, 'airflow/db-migrate', /sleeping/);
      const groups = await killOmMigrateOnly(first);
      await waitFor('Airflow\'s migrator to die with om-migrate', () => groups.every((g) => !alive(g)), 20_000);
      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const expected = engine.server().engine === 'mysql'
        // MySQL committed steps 1–2 of d59cbbef95eb before the kill: the repair brings it back first.
        ? ['airflow/repair-uuid-pk:done', 'openmetadata/server-migrate:done', 'airflow/db-migrate:done']
        : ['openmetadata/server-migrate:done', 'airflow/db-migrate:done'];
      assert.deepEqual(steps(second.json), expected);
      assert.match(second.json.result.steps.find((x: { name: string }) => x.name === 'openmetadata/server-migrate').detail, /1\.11\.0 → 1\.11\.0/,
        'OpenMetadata\'s migrator ran again and found nothing to do');
      const ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['airflow/db-migrate'], ['interrupted', 'done'], 'the killed attempt, then the new one');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      await assertParametersAsBefore(sc, params);
    });
  });

  describe(`up interrupted by SIGINT: ${engine.label}`, () => {
    it('exits 130, stops the migrator, puts every parameter back', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = start(sc, ['up'], { OM_STANDIN_SLEEP_MS: '60000' });
      await waitInsideStep(sc, run, 'openmetadata/server-migrate', /Migration Run finished for Version: 1\.10\.3/);
      const [migrator] = childProcessGroups(run.child.pid!);
      assert.ok(migrator && alive(migrator));
      assert.notDeepEqual(await parameterSnapshot(sc), params, 'raised while the step runs');
      run.child.kill('SIGINT');
      const result = await run.done;
      assert.equal(result.code, 130, result.stdout + result.stderr);
      assert.match(result.stderr, /interrupted by SIGINT/);
      await waitFor('the migrator to be stopped', () => !alive(migrator), 15_000);
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.3', 'the migrator did not go on');
      const status = await runCli(sc, ['status', '--json']);
      assert.deepEqual(status.json.result.unreverted, []);
      assert.equal(status.json.result.databases[0].lock, null, 'the lock went with the run');
      assert.deepEqual(ledgerByStep((await ledgerRows(sc))!).run, ['interrupted']);
    });
  });

  describe(`up with a failing OpenMetadata migrator: ${engine.label}`, () => {
    it('exits 8 naming the exit and the version reached, parameters restored; the next up re-plans and finishes', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const failed = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      assert.equal(failed.json.error.code, 'STEP_FAILED');
      assert.match(failed.json.error.message, /OpenMetadata's migrator exited with 1; the database is at 1\.10\.5/);
      assert.match(failed.stderr, /data migration of 1\.11\.0 failed/, 'the migrator\'s own output is shown');
      const progress = failed.json.error.details.progress;
      assert.deepEqual(progress.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`), ['openmetadata/server-migrate:failed']);
      assert.ok(progress.backups.length === 2);
      await assertParametersAsBefore(sc, params);
      let ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['failed']);
      assert.deepEqual(ledger.run, ['failed']);
      assert.equal(ledger['airflow/db-migrate'], undefined, 'the Airflow step did not start');
      const status = await runCli(sc, ['status', '--json']);
      assert.deepEqual(status.json.result.unreverted, []);

      const again = await runCli(sc, ['up', '--json']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual(steps(again.json), ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.ok(again.json.result.backups.every((b: { reused: boolean }) => !b.reused), 'the database changed (1.10.5): a new backup');
      assert.equal(await omVersion(sc), '1.11.0');
      await assertParametersAsBefore(sc, params);
      ledger = ledgerByStep((await ledgerRows(sc))!);
      assert.deepEqual(ledger['openmetadata/server-migrate'], ['failed', 'done']);
    });

    it('a run that failed before the database changed is resumed: the next up of the same plan takes over its verified backups', async () => {
      const sc = await scenario(engine.server());
      // 1.10.3 fails after its schema change but before its row: SERVER_CHANGE_LOG is as it was.
      const failed = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '1.10.3' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      assert.equal(await omVersion(sc), '1.10.2');
      const dumps = backupFiles(sc).sort();
      const again = await runCli(sc, ['up', '--json']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const s = again.json.result;
      assert.equal(s.plan.id, failed.json.error.details.progress.planId, 'the same plan from the same state');
      assert.equal(s.resumedFrom, failed.json.error.details.progress.runId);
      assert.ok(s.backups.every((b: { reused: boolean; reusedFrom: string }) => b.reused && b.reusedFrom === s.resumedFrom), JSON.stringify(s.backups));
      for (const b of s.backups) assert.match(b.decision, /^reusing backup \S+ \(taken \d+ (s|min) ago, counts match\)$/);
      assert.deepEqual(backupFiles(sc).sort(), dumps, 'no second dump');
      assert.equal(await omVersion(sc), '1.11.0');
    });

    it('rows written after the failed run: the resumed up backs that database up again and says why (issue 21, point 7)', async () => {
      const sc = await scenario(engine.server());
      await seedEntities(sc.om, 5);
      const failed = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '1.10.3' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      assert.equal(await omVersion(sc), '1.10.2', 'nothing the versions could show');
      // The application wrote on: that row is in no backup of the failed run.
      await sc.om.root.knex.raw('INSERT INTO table_entity (id, name) VALUES (?, ?)', ['10000000-0000-0000-0000-000000000000', 'written_after']);
      const again = await runCli(sc, ['up', '--json']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const s = again.json.result;
      const by = Object.fromEntries(s.backups.map((b: { target: string }) => [b.target, b])) as Record<string, { reused: boolean; decision: string; file: string }>;
      assert.equal(by.openmetadata.reused, false, JSON.stringify(s.backups));
      assert.equal(by.openmetadata.decision, 'new backup: rows changed since the unfinished run\'s backup (table_entity 5 → 6)');
      assert.ok(!failed.json.error.details.progress.backups.includes(by.openmetadata.file), 'a new file');
      assert.equal(by.airflow.reused, true, 'the database nobody wrote to keeps its backup');
      assert.match(by.airflow.decision, /^reusing backup \S+ \(taken \d+ (s|min) ago, counts match\)$/);
      assert.equal(await omVersion(sc), '1.11.0');
    });

    it('an unfinished run\'s backup older than --backup-reuse-max-age is not taken over', async () => {
      const sc = await scenario(engine.server());
      const failed = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '1.10.3' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      await new Promise((r) => setTimeout(r, 2_000));
      const again = await runCli(sc, ['up', '--json', '--backup-reuse-max-age', '1s']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      for (const b of again.json.result.backups) {
        assert.equal(b.reused, false);
        assert.match(b.decision, /^new backup: the unfinished run's backup was taken \d+ s ago, more than --backup-reuse-max-age 1 s$/);
      }
    });
  });
}
