import { hostname } from 'node:os';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'running-migrator';
const RUNNING = { kind: 'run-in-progress' } as const;

/**
 * Never race a migration: a migrator left running by a killed om-migrate run (its process group, recorded in the lock
 * holder's row), Airflow's own migration lock held by an `airflow db migrate` (docs/facts/airflow.md), or a session
 * still executing a schema change on the database (a killed client's ALTER goes on on the server). Each blocks, named.
 */
export const runningMigratorGate: Gate = {
  id: GATE,
  title: 'Running migrators',
  async check(ctx: GateContext): Promise<Finding[]> {
    const { describeSession: describe, partialView, readMigrationActivity } = ctx.tools.airflow;
    const findings: Finding[] = [];
    for (const t of ctx.targets) {
      const before = findings.length;
      const left = ctx.previousHolder(t.role);
      // The holder row sits in a table the application user can write: its process group is believed only once this
      // host shows it led by om-migrate's own supervisor, running as this user (never 1, 0, another program's group).
      const group = left?.childPgid !== undefined && left.childHost === hostname() ? ctx.tools.migratorGroup(left.childPgid) : undefined;
      if (left?.childPgid !== undefined && group?.kind === 'om-migrate') {
        findings.push(finding(GATE, t.role, 'block',
          `the migrator of an om-migrate run that is gone (${left.command} pid=${left.pid}, run ${left.runId}) is still running as process group ${left.childPgid}`,
          `Wait for it to end, or stop it (kill -TERM -${left.childPgid}); a second migrator must not run beside it.`,
          { pgid: left.childPgid, runId: left.runId }, RUNNING));
      } else if (left?.childPgid !== undefined && group?.kind === 'other') {
        findings.push(finding(GATE, t.role, 'warn',
          `the lock holder's row in ${t.spec.database} names process group ${left.childPgid} as a migrator, but ${group.why}: ignored`,
          'That row is written through the application\'s connection; if you did not expect it, find out who wrote it.', { pgid: left.childPgid }));
      } else if (left?.childPgid !== undefined && left.childHost !== undefined && left.childHost !== hostname()) {
        findings.push(finding(GATE, t.role, 'warn',
          `an om-migrate run on ${left.childHost} (run ${left.runId}) ended while its migrator (process group ${left.childPgid}) ran there`,
          `Check on ${left.childHost} that it has stopped; om-migrate cannot see another host's processes.`, { host: left.childHost }));
      }
      // Through the admin connection when there is one: the application user may not see another account's sessions
      // (a killed pod's UPDATE under a different user), and "nothing is running" must not rest on a partial view.
      const admin = await ctx.adminFor(t).catch(() => undefined);
      const activity = await readMigrationActivity(t.dialect, admin);
      if (t.role === 'airflow' && activity.lockHolder) {
        findings.push(finding(GATE, t.role, 'block', `Airflow's migration lock is held: an airflow db migrate is running (${describe(activity.lockHolder)})`,
          'Wait for that migration to finish (the ingestion container runs one at every start), then run again.', { session: activity.lockHolder }, RUNNING));
      }
      for (const session of activity.ddl) {
        findings.push(finding(GATE, t.role, 'block', `a schema change is running on ${t.spec.database}: ${describe(session)}`,
          'Wait for it to finish, or end that session; om-migrate does not change a schema under a running statement.', { session }, RUNNING));
      }
      if (findings.length > before) continue;
      const partial = partialView(t.dialect, activity);
      const through = activity.visibility.through === 'admin' ? ' (looked at every account\'s sessions through the admin connection)' : '';
      if (!partial) {
        findings.push(finding(GATE, t.role, 'ok', `no other migration is running${through}`, undefined, { visibility: activity.visibility }));
        continue;
      }
      // A half-applied database or a run that died is when a leftover statement of another account is likely: warn then.
      const suspicious = (t.role === 'airflow' && ctx.input.airflowNeedsRepair) || ctx.previousHolder(t.role) !== undefined;
      findings.push(finding(GATE, t.role, suspicious ? 'warn' : 'ok', `no other migration is visible, but ${partial}`,
        'Give --admin-url (or grant PROCESS / pg_read_all_stats) so that om-migrate sees every account\'s sessions; until then, check that no other migrator is still running.',
        { visibility: activity.visibility }));
    }
    return findings;
  },
};
