import { join } from 'node:path';
import { repairAirflow } from '../../api/repairAirflow.js';
import { runBackup } from '../../backup/runBackup.js';
import { connect } from '../../dialects/connect.js';
import type { RepairPlan } from '../../airflow/planRepair.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { OmMigrateError } from '../../errors.js';
import { EXIT } from '../exitCodes.js';
import { withConnectionOptions, withOutputOptions } from '../options.js';
import { Output, paint } from '../output.js';
import type { CommandSpec } from './CommandSpec.js';

export const repairAirflowCommand: CommandSpec = {
  builder: (y) => withOutputOptions(withConnectionOptions(y))
    .option('dry-run', { type: 'boolean', describe: 'print the exact SQL and change nothing [command line only]' })
    .option('backup', { type: 'boolean', default: true, describe: 'take a verified backup first (--no-backup to skip) [command line only]' })
    .option('truncate-task-instance', { type: 'boolean', describe: 'empty task_instance and its dependants (destructive; needs --yes and a backup) [command line only]' })
    .option('fix-malformed-ids', { type: 'boolean', describe: 'rewrite task_instance ids malformed by Airflow 3.0.0-3.0.5 on MySQL (apache/airflow#54554) [command line only]' }),
  async run(argv, input, out) {
    const config = resolveConfig(input);
    if (!config.airflow) {
      throw new OmMigrateError('USAGE', 'repair-airflow needs the Airflow database', {
        hint: 'Give --airflow-url or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN.',
      });
    }
    const dryRun = Boolean(argv.dryRun);
    const outcome = await repairAirflow(config.airflow, {
      dryRun,
      confirmed: config.yes,
      truncateTaskInstance: Boolean(argv.truncateTaskInstance),
      fixMalformedIds: Boolean(argv.fixMalformedIds),
      lockTimeoutMs: config.lockTimeoutMs,
      backup: argv.backup === false ? undefined : async (spec) => {
        if (!out.json) out.line(`backing up ${spec.database} first…`);
        const dialect = await connect(spec, { purpose: 'repair-airflow-backup' });
        try {
          const manifest = await runBackup({ role: 'airflow', dialect }, config);
          const file = join(config.backupDir, manifest.file);
          if (!out.json) out.line(`backup verified: ${file}`);
          return file;
        } finally {
          await dialect.close();
        }
      },
      onAction: out.json ? undefined : (action, i, total) => {
        out.line(`${paint(out, 'bold', `[${i + 1}/${total}]`)} ${action.description}`);
        for (const sql of action.sql) out.line(paint(out, 'dim', `    ${sql}`));
      },
    });
    if (out.json) {
      out.printJson({ ok: true, exitCode: EXIT.OK, dryRun, state: outcome.plan.state, actions: outcome.plan.actions,
        after: outcome.dryRun ? undefined : outcome.result.after });
      return EXIT.OK;
    }
    if (outcome.dryRun) renderPlan(outcome.plan, out);
    else out.line(paint(out, 'green', `Repaired: ${outcome.result.after.summary} (${outcome.result.durationMs} ms)`));
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
