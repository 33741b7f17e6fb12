import { describeFabRevision, describeRevision } from '../../airflow/revisions.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { readStatus } from '../../api/status.js';
import { EXIT } from '../exitCodes.js';
import { paint } from '../output.js';
import { describeChange } from '../../targets/rowCounts.js';
import { formatDuration } from '../../rehearsal/rehearsalRecord.js';
import type { CommandSpec } from './CommandSpec.js';

export const statusCommand: CommandSpec = {
  name: 'status',
  async run(input, out) {
    const status = await readStatus(resolveConfig(input, process.env, { command: 'status' }));
    out.result('status', EXIT.OK, status, () => {
      const { openmetadata, airflow } = status.versions;
      if (openmetadata) out.line(`OpenMetadata: ${openmetadata.current ?? 'fresh install'}`);
      for (const row of openmetadata?.unfinished ?? []) out.line(`  SERVER_CHANGE_LOG: ${row.version} is ${row.status} (does not count as applied; the migrator runs it again)`);
      if (airflow) out.line(`Airflow: ${airflow.revision ? describeRevision(airflow.revision) : 'no revision'}`);
      if (airflow?.fabRevision) out.line(`Airflow FAB provider: ${describeFabRevision(airflow.fabRevision)}`);
      for (const db of status.databases) {
        out.line(paint(out, 'bold', `${db.role}  ${db.connection}`));
        out.line(`  lock: ${db.lock ? db.lock.text : 'free'}`);
        const keeper = status.databases.find((d) => d.ledger.length > 0);
        if (db.ledger.length === 0) out.line(keeper ? `  ledger: kept in the ${keeper.role} database` : '  ledger: no om-migrate run yet');
        for (const e of db.ledger) {
          out.line(`  ${e.startedAt}  ${e.step.padEnd(34)} ${e.status.padEnd(7)} --to ${e.targetVersion}  run ${e.runId.slice(0, 8)}`);
        }
      }
      for (const r of status.cutOffRestores) {
        out.line(paint(out, 'red', `restore-on-failure of run ${r.runId.slice(0, 8)} was cut off (${r.record}):`));
        for (const d of r.databases) out.line(paint(out, 'red', `  ${d.text}`));
        out.line(paint(out, 'red', '  up refuses until it is settled: run om-migrate resolve-restore'));
      }
      const rh = status.lastRehearsal;
      if (rh) {
        const outcome = rh.status === 'done' ? 'passed' : rh.status;
        out.line(`rehearsal: ${outcome} ${rh.finishedAt ?? '(unfinished)'}, plan ${rh.planId}${rh.record ? `, ${formatDuration(rh.record.totalMs)}` : ''}`
          + `${rh.record?.report ? `; report ${rh.record.report}` : ''}`);
      }
      const rc = status.lastRowCounts;
      if (!rc) out.line('row counts: no run compared them yet');
      else if (!rc.comparison) out.line(`row counts: run ${rc.runId.slice(0, 8)} did not finish comparing`);
      else {
        out.line(`row counts (run ${rc.runId.slice(0, 8)}, ${rc.finishedAt ?? 'unfinished'}): ${rc.comparison.compared} tables compared, ${rc.comparison.changed.length} changed`);
        for (const c of rc.comparison.changed) {
          const line = `  ${rc.comparison.lost.some((l) => l.role === c.role && l.table === c.table) ? 'LOST ' : ''}${describeChange(c)}`;
          out.line(rc.comparison.lost.some((l) => l.table === c.table) ? paint(out, 'red', line) : line);
        }
        for (const b of rc.lost ? rc.comparison.backups : []) out.line(paint(out, 'red', `  restore from: ${b.manifest}`));
      }
      if (status.unreverted.length === 0) out.line('parameters: every change put back');
      for (const u of status.unreverted) {
        if (u.problem !== undefined) {
          out.line(paint(out, 'yellow', `journal row ${u.id} in ${u.journal} will never be run: ${u.problem}`));
          continue;
        }
        if (u.alreadyBack) {
          // A restart resets what SET GLOBAL raised: say what the server has, not what the journal last wrote.
          out.line(`journaled: ${u.parameter} on ${u.server} (${u.scope}) is back at ${u.previous ?? '(not set)'} already; `
            + `${u.runActive ? 'its run is still going' : 'om-migrate revert-params clears the entry'}`);
          continue;
        }
        const now = u.live === undefined ? `${u.next} as journaled (the live value could not be read)` : u.live ?? '(not set)';
        out.line(paint(out, 'yellow', `unreverted: ${u.parameter} on ${u.server} (${u.scope}) was ${u.previous ?? '(not set)'}, now ${now}; `
          + `${u.runActive ? 'its run is still going' : 'run om-migrate revert-params'}`));
      }
    });
    return EXIT.OK;
  },
};
