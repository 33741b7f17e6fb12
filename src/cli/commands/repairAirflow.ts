import { repairAirflow } from '../../api/repairAirflow.js';
import type { RepairPlan } from '../../airflow/planRepair.js';
import type { RepairAirflowReport } from '../../api/results.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { EXIT } from '../exitCodes.js';
import { Output, paint } from '../output.js';
import type { CommandSpec } from './CommandSpec.js';

export const repairAirflowCommand: CommandSpec = {
  name: 'repair-airflow',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'repair-airflow' });
    const dryRun = Boolean(input.dryRun);
    const outcome = await repairAirflow(config, {
      dryRun,
      backup: input.backup !== false,
      truncateTaskInstance: Boolean(input.truncateTaskInstance),
      fixMalformedIds: Boolean(input.fixMalformedIds),
      deleteOrphans: Boolean(input.deleteOrphans),
      onBackup: out.json ? undefined : (event) => {
        if (event.phase === 'started') out.line(`backing up ${event.database} first…`);
        else out.line(`backup verified: ${event.file}`);
      },
      onAction: out.json ? undefined : (action, i, total) => {
        out.line(`${paint(out, 'bold', `[${i + 1}/${total}]`)} ${action.description}`);
        for (const sql of action.sql) out.line(paint(out, 'dim', `    ${sql}`));
      },
    });
    const result: RepairAirflowReport = { dryRun, state: outcome.plan.state, actions: outcome.plan.actions,
      after: outcome.dryRun ? undefined : outcome.result.after, backup: outcome.dryRun ? undefined : outcome.backup };
    out.result('repair-airflow', EXIT.OK, result, () => {
      if (outcome.dryRun) renderPlan(outcome.plan, out);
      else out.line(paint(out, 'green', `Repaired: ${outcome.result.after.summary} (${outcome.result.durationMs} ms)`));
    });
    return EXIT.OK;
  },
};

function renderPlan(plan: RepairPlan, out: Output): void {
  out.line(`Airflow: ${plan.state.summary}`);
  out.line(`Dry run: ${plan.actions.length} action(s)${plan.transactional ? ', in one transaction' : ''}; nothing changed.`);
  plan.actions.forEach((action, i) => {
    out.line(`${i + 1}. ${action.description}`);
    for (const sql of action.sql) out.line(`    ${sql};`);
  });
}
