import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import type { RunPlan } from '../../../src/plan/buildPlan.js';
import { planFileText } from '../../../src/plan/savedPlan.js';
import { alive, assertParametersAsBefore, ledgerByStep, ledgerRows, parameterSnapshot, runCli, stubbornMigrator, upTestServers, waitFor } from '../../helpers/upHarness.js';

/**
 * A migrator that never ends, and ignores SIGTERM: the plan's time limit stops it with SIGTERM, then SIGKILL after the
 * grace period (--stop-grace), and only once it is gone are the parameters put back. The migrator itself watches the raised value while it
 * is being stopped: it must never see it put back under it.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const engine of engines) {
  describe(`step timeout: ${engine.label}`, () => {
    it('SIGTERM, then SIGKILL; the parameters stay raised until the migrator is gone, then are put back', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const dir = mkdtempSync(join(tmpdir(), 'omm-timeout-'));
      dirs.push(dir);
      const migrator = stubbornMigrator(sc, dir);
      const stubborn = { OM_MIGRATE_OM_COMMAND: migrator.command, OM_MIGRATE_STOP_GRACE: '2s' };
      // The time limit is the plan's: a saved plan whose limit is 3 s (the command line's floor is 1 min, for people)
      // proves in seconds what a minute would. The digest detects an accidental edit and is no signature: a deliberate
      // edit of a choice (a limit, a name) runs, one of a fact never matches the live databases.
      const file = join(dir, 'short.plan.json');
      const dry = await runCli(sc, ['preflight', '--dry-run', '--json', '--out', file], stubborn);
      assert.equal(dry.code, 0, dry.stdout + dry.stderr);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { plan: RunPlan };
      saved.plan.steps = saved.plan.steps.map((s) => ({ ...s, timeoutMs: 3000 }));
      writeFileSync(file, planFileText(saved.plan), { mode: 0o600 });
      const run = await runCli(sc, ['up', '--json', '--plan', file], stubborn);
      assert.equal(run.code, 8, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'STEP_FAILED');
      assert.match(run.json.error.message, /ran past its time limit|timed out|time limit/);
      const pid = migrator.pid();
      await waitFor('the migrator to be gone', () => !alive(pid), 5_000).catch(() => undefined);
      assert.equal(alive(pid), false, 'the migrator that ignored SIGTERM was killed');

      const lines = migrator.lines();
      const term = lines.indexOf('TERM');
      assert.ok(term > 0, `it was sent SIGTERM first: ${lines.slice(-5).join(' | ')}`);
      const raised = migrator.raised;
      const during = lines.slice(0, term).filter((l) => l.startsWith('value '));
      const afterTerm = lines.slice(term + 1).filter((l) => l.startsWith('value '));
      assert.ok(during.length > 0 && during.every((l) => raised.test(l)), `raised while it ran: ${during.slice(-3).join(' | ')}`);
      assert.ok(afterTerm.length > 0, 'it went on after SIGTERM (the grace period)');
      assert.ok(afterTerm.every((l) => raised.test(l)), `never put back while it was still running: ${afterTerm.join(' | ')}`);

      await assertParametersAsBefore(sc, params);
      assert.deepEqual(ledgerByStep((await ledgerRows(sc))!)['openmetadata/server-migrate'], ['failed']);
    });

    it('a SQL step waiting for another session\'s lock (the Airflow repair\'s ALTER) stops at its time limit too: its statement cancelled, parameters put back', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const mysql = sc.server.engine === 'mysql';
      // A foreign key missing: the plan's first step is the repair, whose ALTER then waits for this session's lock.
      await sc.airflow.root.knex.raw(mysql ? 'ALTER TABLE task_map DROP FOREIGN KEY task_map_task_instance_fkey'
        : 'ALTER TABLE task_map DROP CONSTRAINT task_map_task_instance_fkey');
      // --step-timeout, not a saved plan with a short limit: a standalone preflight blocks on this state (up repairs it
      // first), so it saves no plan.
      const blocker = await connect(sc.airflow.rootSpec);
      try {
        await blocker.knex.raw(mysql ? 'START TRANSACTION' : 'BEGIN');
        await blocker.knex.raw(mysql ? 'SELECT COUNT(*) FROM task_map' : 'LOCK TABLE task_map IN ROW EXCLUSIVE MODE');
        const run = await runCli(sc, ['up', '--json', '--step-timeout', '1m']);
        assert.equal(run.code, 8, run.stdout + run.stderr);
        assert.equal(run.json.error.code, 'STEP_FAILED');
        assert.match(run.json.error.message, /airflow\/repair-uuid-pk ran past its time limit of 1m/);
        const admin = await connect(sc.server.admin);
        try {
          const r = mysql
            ? await admin.knex.raw("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'ALTER TABLE%' AND COMMAND = 'Query'", [sc.airflow.name])
            : await admin.knex.raw("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = ? AND query LIKE 'ALTER TABLE%' AND state = 'active'", [sc.airflow.name]);
          const rows = mysql ? (r as Array<Array<{ n: number }>>)[0] : (r as { rows: Array<{ n: number }> }).rows;
          assert.equal(Number(rows[0].n), 0, 'the waiting ALTER was cancelled');
        } finally {
          await admin.close();
        }
      } finally {
        await blocker.knex.raw(mysql ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
        await blocker.close();
      }
      await assertParametersAsBefore(sc, params);
      assert.deepEqual(ledgerByStep((await ledgerRows(sc))!)['airflow/repair-uuid-pk'], ['failed']);
    });
  });
}
