import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  assertParametersAsBefore, childProcessGroups, killHard, ledgerRows, parameterSnapshot, runCli, startCli, upTestServers, waitFor,
  type LiveRun,
} from '../../helpers/upHarness.js';

/**
 * The database server goes away in the middle of `up` (crash, OOM kill, failover): an expected fault, with its own
 * message and exit code (13), not "unexpected error … report the stack trace". After the restart, which reset every
 * SET GLOBAL, `status` and `revert-params` must read the live values and claim no change that is not there.
 *
 * The throw-away binlog MariaDB of this file is the one crashed (never a shared server). PostgreSQL's work_mem changes
 * are stored settings that survive a restart, so the phantom-change half does not arise there; not tested here.
 */
const live: LiveRun[] = [];
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
});
const { binlog, scenario } = upTestServers();

describe('database outage mid-run: MariaDB with binary logging (throw-away server)', () => {
  it('exit 13 with its own message; after the restart, status and revert-params read the live values (no phantom change)', async () => {
    const server = binlog();
    const sc = await scenario(server.server);
    const params = await parameterSnapshot(sc);
    const run = startCli(sc, ['up', '--json'], { OM_STANDIN_SLEEP_MS: '60000' });
    live.push(run);
    await waitFor('the OpenMetadata step to run', async () =>
      (await ledgerRows(sc).catch(() => undefined))?.some((r) => r.step === 'openmetadata/server-migrate' && r.status === 'running'), 120_000);
    await waitFor('the migrator to start', () => childProcessGroups(run.child.pid!).length > 0, 30_000);
    assert.notDeepEqual(await parameterSnapshot(sc), params, 'raised while the step runs');

    await server.crash();
    const result = await run.done;
    await server.restart();

    assert.equal(result.code, 13, result.stdout + result.stderr);
    assert.equal(result.json.error.code, 'DB_UNAVAILABLE');
    assert.match(result.json.error.message, /lost the database server/);
    assert.doesNotMatch(result.stdout + result.stderr, /unexpected error|report the stack trace/);
    assert.match(result.json.error.hint, /restart/);

    // The restart reset what SET GLOBAL raised; the journal (on disk) still says "applied".
    await assertParametersAsBefore(sc, params);
    const status = await runCli(sc, ['status', '--json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const unreverted = status.json.result.unreverted as Array<{ parameter: string; live: string; next: string; alreadyBack: boolean }>;
    assert.ok(unreverted.length > 0, 'the journal still lists the changes');
    for (const u of unreverted) assert.equal(u.alreadyBack, true, `${u.parameter} is read live: ${u.live}, not the journaled ${u.next}`);
    const text = await runCli(sc, ['status']);
    assert.doesNotMatch(text.stdout, /unreverted: .*now 20971520/, `status claims no raised value: ${text.stdout}`);
    assert.match(text.stdout, /is back at .* already/);

    const revert = await runCli(sc, ['revert-params']);
    assert.equal(revert.code, 0, revert.stdout + revert.stderr);
    assert.doesNotMatch(revert.stdout, /→/, `no change is printed that did not happen: ${revert.stdout}`);
    assert.match(revert.stdout, /nothing to put back for .*already at its previous value/);
    await assertParametersAsBefore(sc, params);
    const after = await runCli(sc, ['status', '--json']);
    assert.deepEqual(after.json.result.unreverted, []);
  });
});
