import { describeRevision } from '../../config/airflowRevisions.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { readStatus } from '../../api/status.js';
import { EXIT } from '../exitCodes.js';
import { paint } from '../output.js';
import type { CommandSpec } from './CommandSpec.js';

export const statusCommand: CommandSpec = {
  name: 'status',
  async run(input, out) {
    const status = await readStatus(resolveConfig(input, process.env, { command: 'status' }));
    out.result('status', EXIT.OK, status, () => {
      const { openmetadata, airflow } = status.versions;
      if (openmetadata) out.line(`OpenMetadata: ${openmetadata.current ?? 'fresh install'}`);
      if (airflow) out.line(`Airflow: ${airflow.revision ? describeRevision(airflow.revision) : 'no revision'}`);
      for (const db of status.databases) {
        out.line(paint(out, 'bold', `${db.role}  ${db.connection}`));
        out.line(`  lock: ${db.lock ? db.lock.text : 'free'}`);
        const keeper = status.databases.find((d) => d.ledger.length > 0);
        if (db.ledger.length === 0) out.line(keeper ? `  ledger: kept in the ${keeper.role} database` : '  ledger: no om-migrate run yet');
        for (const e of db.ledger) {
          out.line(`  ${e.startedAt}  ${e.step.padEnd(34)} ${e.status.padEnd(7)} --to ${e.targetVersion}  run ${e.runId.slice(0, 8)}`);
        }
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
