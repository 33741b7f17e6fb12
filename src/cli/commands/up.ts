import { resolveConfig } from '../../config/resolveConfig.js';
import { describeRevision } from '../../config/airflowRevisions.js';
import { runUp, type UpEvent, type UpSummary } from '../../api/up.js';
import { EXIT } from '../exitCodes.js';
import { Output, paint } from '../output.js';
import { formatBytes } from '../../config/units.js';
import { startPhases } from '../progress.js';
import type { CommandSpec } from './CommandSpec.js';

export const upCommand: CommandSpec = {
  name: 'up',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'up' });
    const summary = await runUp(config, { onEvent: await eventPrinter(out) });
    out.result('up', EXIT.OK, summary, () => renderSummary(summary, out));
    return EXIT.OK;
  },
};

/** The run's events as phases: a spinner on a TTY, plain lines in container logs, nothing but the summary with --json. */
export async function eventPrinter(out: Output): Promise<(e: UpEvent) => void> {
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

export function renderSummary(s: UpSummary, out: Output): void {
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
