import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { runLockName } from '../../../src/lock/lockName.js';
import { controlsEnv } from '../../fixtures/airflow/python/pythonAirflow.js';
import type { UpScenario } from '../../fixtures/upScenario.js';
import {
  alive, assertParametersAsBefore, killHard, ledgerRows, parameterSnapshot, runCli, startCli, stubbornMigrator, upTestServers, waitFor, type LiveRun,
} from '../../helpers/upHarness.js';

/**
 * Never two migrators on one database. The server ends the run lock's session mid-step (KILL / pg_terminate_backend,
 * as wait_timeout or a failover would): the run must notice, stop its migrator, and end with exit 12; it puts its
 * parameters back only once its migrator is gone. A migrator that outlives a SIGKILLed om-migrate (started outside its
 * process tree) must block the next `up`, named, with the killed run's parameters left as its migrator needs them.
 */
const live: LiveRun[] = [];
const orphans: number[] = [];
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Ends the session holding the run lock of the OpenMetadata database, through the server's superuser. */
async function killLockSession(sc: UpScenario): Promise<string> {
  const app = await connect(sc.om.appSpec);
  const admin = await connect(sc.server.admin);
  try {
    const holder = await app.lock(runLockName(sc.om.appSpec)).holder();
    assert.ok(holder, 'the run holds its lock');
    if (sc.server.engine === 'mysql') await admin.knex.raw(`KILL ${Number(holder.connectionId)}`);
    else await admin.knex.raw('SELECT pg_terminate_backend(?)', [Number(holder.connectionId)]);
    return holder.connectionId;
  } finally {
    await app.close();
    await admin.close();
  }
}

for (const engine of engines) {
  describe(`run lock lost mid-step: ${engine.label}`, () => {
    it('the lock\'s session is ended by the server: exit 12, migrator stopped, parameters put back only after it is gone', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const dir = mkdtempSync(join(tmpdir(), 'omm-locklost-'));
      dirs.push(dir);
      const migrator = stubbornMigrator(sc, dir);
      const run = startCli(sc, ['up', '--json'], { OM_MIGRATE_OM_COMMAND: migrator.command, OM_MIGRATE_STOP_GRACE: '2s' });
      live.push(run);
      await waitFor('the migrator to run', () => migrator.started(), 120_000);
      await killLockSession(sc);
      const result = await run.done;
      assert.equal(result.code, 12, result.stdout + result.stderr);
      assert.equal(result.json.error.code, 'LOCK_LOST');
      assert.match(result.json.error.message, /lost its lock/);
      const pid = migrator.pid();
      await waitFor('the migrator to be reaped', () => !alive(pid), 5_000).catch(() => undefined);
      assert.equal(alive(pid), false, 'its migrator is gone');
      const lines = migrator.lines();
      const term = lines.indexOf('TERM');
      assert.ok(term > 0, 'the migrator was told to stop');
      const raised = migrator.raised;
      assert.ok(lines.slice(term + 1).filter((l) => l.startsWith('value ')).every((l) => raised.test(l)),
        `never put back while the migrator still ran: ${lines.slice(term).join(' | ')}`);
      await assertParametersAsBefore(sc, params);
      const rows = (await ledgerRows(sc))!;
      assert.ok(!rows.some((r) => r.status === 'running'), 'nothing left marked running');
    });

    it('a migrator that outlived a SIGKILLed up (started outside its process tree) blocks the next up, named; its parameters stay', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const dir = mkdtempSync(join(tmpdir(), 'omm-outside-'));
      dirs.push(dir);
      // The supervisor kills whatever the migrator starts, setsid or not (migratorTree.test.ts). What it cannot reach is
      // a migration handed to something outside the tree (a service manager, a job queue): here a launcher the test
      // starts, which runs Airflow's migrator with the environment the step's command hands it. The migrator holds
      // Airflow's own migration lock while it sleeps before step 3.
      const launcher = spawn('/bin/sh', ['-c', `while [ ! -f '${dir}/go' ]; do sleep 0.1; done; . '${dir}/env.sh'; exec ${sc.env.OM_MIGRATE_AIRFLOW_COMMAND} > '${dir}/out' 2>&1`],
        { detached: true, stdio: 'ignore' });
      orphans.push(launcher.pid!);
      const first = startCli(sc, ['up'], {
        ...controlsEnv({ sleepAtStep: 3, sleepSeconds: 300 }),
        OM_MIGRATE_AIRFLOW_COMMAND: `export -p > '${dir}/env.sh' && touch '${dir}/go' && exec sleep 600`, OM_MIGRATE_STOP_GRACE: '2s',
      });
      live.push(first);
      const said = () => {
        try {
          return readFileSync(join(dir, 'out'), 'utf8');
        } catch {
          return '';
        }
      };
      await waitFor('Airflow\'s migrator to hold its lock and sleep', () => /sleeping .*\(pid (\d+)\)/.test(said()), 180_000)
        .catch((error: Error) => { throw new Error(`${error.message}: ${first.output().stderr.slice(-2000)} ${said()}`); });
      const survivor = Number(/sleeping .*\(pid (\d+)\)/.exec(said())![1]);
      orphans.push(survivor);
      first.child.kill('SIGKILL');
      await first.done;
      await new Promise((r) => setTimeout(r, 4_000)); // past the supervisor's grace period (2 s): what could be killed is gone
      assert.ok(alive(survivor), 'the migrator outlived om-migrate (the premise)');
      const raisedByFirst = await parameterSnapshot(sc);
      assert.notDeepEqual(raisedByFirst, params, 'the killed run left its parameters raised');

      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 5, second.stdout + second.stderr);
      assert.equal(second.json.error.code, 'MIGRATION_RUNNING');
      assert.match(second.json.error.message, /Airflow's migration lock is held: an airflow db migrate is running/);
      assert.deepEqual(await parameterSnapshot(sc), raisedByFirst, 'nothing put back under the running migrator');
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0);

      process.kill(survivor, 'SIGKILL');
      await waitFor('the survivor to be gone', () => !alive(survivor), 10_000);
      const third = await runCli(sc, ['up', '--json']);
      assert.equal(third.code, 0, third.stdout + third.stderr);
      await assertParametersAsBefore(sc, params);
    });
  });
}
