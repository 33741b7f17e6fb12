import { hostname } from 'node:os';
import { describeSession as describe } from '../src/airflow/migrationActivity.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';
import { migratorGroup } from '../src/process/processGroup.js';

const GATE = 'running-migrator';

/**
 * Never race a migration: a migrator left running by a killed om-migrate run (its process group, recorded in the lock
 * holder's row), Airflow's own migration lock held by an `airflow db migrate` (docs/facts/airflow.md), or a session
 * still executing a schema change on the database (a killed client's ALTER goes on on the server). Each blocks, named.
 */
export const runningMigratorGate: Gate = {
  id: GATE,
  title: 'Running migrators',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const t of ctx.targets) {
      const before = findings.length;
      const left = ctx.previousHolder(t.role);
      // The holder row sits in a table the application user can write: its process group is believed only once this
      // host shows it led by om-migrate's own supervisor, running as this user (never 1, 0, another program's group).
      const group = left?.childPgid !== undefined && left.childHost === hostname() ? migratorGroup(left.childPgid) : undefined;
      if (left?.childPgid !== undefined && group?.kind === 'om-migrate') {
        findings.push(finding(GATE, t.role, 'block',
          `the migrator of an om-migrate run that is gone (${left.command} pid=${left.pid}, run ${left.runId}) is still running as process group ${left.childPgid}`,
          `Wait for it to end, or stop it (kill -TERM -${left.childPgid}); a second migrator must not run beside it.`,
          { pgid: left.childPgid, runId: left.runId }));
      } else if (left?.childPgid !== undefined && group?.kind === 'other') {
        findings.push(finding(GATE, t.role, 'warn',
          `the lock holder's row in ${t.spec.database} names process group ${left.childPgid} as a migrator, but ${group.why}: ignored`,
          'That row is written through the application\'s connection; if you did not expect it, find out who wrote it.', { pgid: left.childPgid }));
      } else if (left?.childPgid !== undefined && left.childHost !== undefined && left.childHost !== hostname()) {
        findings.push(finding(GATE, t.role, 'warn',
          `an om-migrate run on ${left.childHost} (run ${left.runId}) ended while its migrator (process group ${left.childPgid}) ran there`,
          `Check on ${left.childHost} that it has stopped; om-migrate cannot see another host's processes.`, { host: left.childHost }));
      }
      if (t.role === 'airflow') {
        const holder = await t.dialect.airflow.migrationLockHolder();
        if (holder) {
          findings.push(finding(GATE, t.role, 'block', `Airflow's migration lock is held: an airflow db migrate is running (${describe(holder)})`,
            'Wait for that migration to finish (the ingestion container runs one at every start), then run again.', { session: holder }));
        }
      }
      for (const session of await t.dialect.introspect.activeDdl()) {
        findings.push(finding(GATE, t.role, 'block', `a schema change is running on ${t.spec.database}: ${describe(session)}`,
          'Wait for it to finish, or end that session; om-migrate does not change a schema under a running statement.', { session }));
      }
      if (findings.length === before) findings.push(finding(GATE, t.role, 'ok', 'no other migration is running'));
    }
    return findings;
  },
};
