import { resolveConfig } from '../../config/resolveConfig.js';
import { describeRevision } from '../../config/airflowRevisions.js';
import { runUp, type UpEvent, type UpSummary } from '../../api/up.js';
import { EXIT } from '../exitCodes.js';
import { withBackupOptions, withConnectionOptions, withOutputOptions } from '../options.js';
import { Output, paint } from '../output.js';
import { formatBytes } from '../../config/units.js';
import { startPhases } from '../progress.js';
import type { CommandSpec } from './CommandSpec.js';

export const upCommand: CommandSpec = {
  builder: (y) => withUpOptions(withOutputOptions(withConnectionOptions(y))),
  async run(argv, input, out) {
    const config = resolveConfig(input);
    const summary = await runUp(config, { ...upOptionsFrom(argv), onEvent: await eventPrinter(out) });
    if (out.json) out.printJson({ ok: true, exitCode: EXIT.OK, ...summary });
    else renderSummary(summary, out);
    return EXIT.OK;
  },
};

/** The options of up that the entrypoint shares. */
export function withUpOptions<T>(y: import('yargs').Argv<T>): import('yargs').Argv<T> {
  return withBackupOptions(y)
    .option('om-home', { type: 'string', group: 'Migrators:', describe: 'OpenMetadata\'s home (bootstrap/openmetadata-ops.sh) [env: OM_MIGRATE_OM_HOME, default /opt/openmetadata]' })
    .option('om-migrator', { type: 'string', group: 'Migrators:', describe: 'command that migrates the OpenMetadata database [env: OM_MIGRATE_OM_COMMAND]' })
    .option('airflow-migrator', { type: 'string', group: 'Migrators:', describe: 'command that migrates the Airflow database [env: OM_MIGRATE_AIRFLOW_COMMAND, default "airflow db migrate"]' })
    .option('fix-stale-runs', { type: 'boolean', group: 'Migrators:', describe: 'mark pipeline runs stuck in "running" as failed [env: OM_MIGRATE_FIX_STALE_RUNS=1]' });
}

export function upOptionsFrom(argv: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env) {
  const s = (v: unknown) => (v === undefined || v === '' ? undefined : String(v));
  return {
    migrators: {
      omHome: s(argv.omHome) ?? env.OM_MIGRATE_OM_HOME ?? '/opt/openmetadata',
      omCommand: s(argv.omMigrator) ?? s(env.OM_MIGRATE_OM_COMMAND),
      airflowCommand: s(argv.airflowMigrator) ?? s(env.OM_MIGRATE_AIRFLOW_COMMAND) ?? 'airflow db migrate',
      omConfig: s(argv.config),
    },
    fixStaleRuns: argv.fixStaleRuns === undefined ? env.OM_MIGRATE_FIX_STALE_RUNS === '1' : Boolean(argv.fixStaleRuns),
  };
}

/** The run's events as phases: a spinner on a TTY, plain lines in container logs, nothing but the summary with --json. */
async function eventPrinter(out: Output): Promise<(e: UpEvent) => void> {
  const phases = await startPhases(out);
  return (e) => {
    switch (e.type) {
      case 'phase':
        phases.phase(e.text);
        break;
      case 'backup':
        if (e.progress.phase === 'dumping') phases.update(`backing up ${e.progress.database}: ${formatBytes(e.progress.bytesWritten)} written`);
        break;
      case 'step-started':
        phases.phase(`step ${e.name}`);
        break;
      case 'step-output':
        phases.log(paint(out, 'dim', e.line));
        break;
      case 'step-finished':
        phases.end(e.status === 'done', `${e.name} ${e.status}: ${e.detail}`);
        break;
    }
  };
}

function renderSummary(s: UpSummary, out: Output): void {
  out.line(paint(out, 'bold', `om-migrate up: done (run ${s.runId})`));
  const om = (v: UpSummary['before']) => v.openmetadata ? `OpenMetadata ${v.openmetadata.current ?? 'fresh'}` : undefined;
  const af = (v: UpSummary['before']) => v.airflow ? `Airflow ${v.airflow.revision ? describeRevision(v.airflow.revision) : 'empty'}` : undefined;
  for (const [label, pick] of [['OpenMetadata', om], ['Airflow', af]] as const) {
    const b = pick(s.before);
    if (b) out.line(`  ${label.padEnd(12)} ${b.replace(`${label} `, '')} → ${pick(s.after)!.replace(`${label} `, '')}`);
  }
  for (const b of s.backups) out.line(`  backup       ${b.target}: ${b.file} (${formatBytes(b.bytes)}${b.reused ? ', reused from the interrupted run' : ''})`);
  for (const p of s.parameters) out.line(`  parameter    ${p.target}: ${p.parameter} ${p.previous ?? '(not set)'} → ${p.raisedTo} → ${p.restored}`);
  if (s.leftoversReverted > 0) out.line(`  parameter    ${s.leftoversReverted} change(s) left by an earlier run put back first`);
  for (const st of s.steps) out.line(`  step         ${st.name}: ${st.status} in ${(st.durationMs / 1000).toFixed(1)} s — ${st.detail}`);
  for (const w of s.warnings) out.line(`  ${paint(out, 'yellow', 'warn')}         ${w.summary}${w.fix ? ` (${w.fix})` : ''}`);
}
