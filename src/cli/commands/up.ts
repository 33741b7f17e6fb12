import { resolveConfig } from '../../config/resolveConfig.js';
import { runUp, type UpEvent, type UpSummary } from '../../api/up.js';
import { EXIT } from '../exitCodes.js';
import { Output, paint } from '../output.js';
import { formatBytes } from '../../config/units.js';
import { startPhases } from '../progress.js';
import { describeChange } from '../../targets/rowCounts.js';
import type { CommandSpec } from './CommandSpec.js';

export const upCommand: CommandSpec = {
  name: 'up',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'up' });
    const summary = await runUp(config, { onEvent: await eventPrinter(out), planFile: input.plan });
    const exitCode = upExitCode(summary);
    out.result('up', exitCode, summary, () => renderSummary(summary, out));
    return exitCode;
  },
};

/** 0 when done; 15 when done but the summary says "needs action": automation must not read that as all clear. */
export function upExitCode(summary: UpSummary): number {
  return summary.needsAction.length > 0 ? EXIT.NEEDS_ACTION : EXIT.OK;
}

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
  out.line(paint(out, 'bold', `om-migrate up: ${s.message} (run ${s.runId})`));
  if (s.rehearsal) out.line(`  rehearsal    ${s.rehearsal.severity === 'ok' ? s.rehearsal.summary : paint(out, 'yellow', s.rehearsal.summary)}`);
  if (s.resumedFrom) out.line(`  resumed      the unfinished run ${s.resumedFrom}: its verified backups were taken over`);
  for (const b of s.backups) out.line(`  backup       ${b.target}: ${b.file} (${formatBytes(b.bytes)}; ${b.decision}${b.reused ? `, from run ${b.reusedFrom}` : ''})`);
  for (const p of s.parameters) out.line(`  parameter    ${p.target}: ${p.parameter} ${p.previous ?? '(not set)'} → ${p.raisedTo} → ${p.restored}`);
  if (s.leftoversReverted > 0) out.line(`  parameter    ${s.leftoversReverted} change(s) left by an earlier run put back first`);
  for (const r of s.rejectedJournalRows) out.line(`  ${paint(out, 'yellow', 'journal')}      row ${r.id} in ${r.journal} was not run: ${r.reason}`);
  for (const st of s.steps) out.line(`  step         ${st.name}: ${st.status} in ${(st.durationMs / 1000).toFixed(1)} s — ${st.detail}`);
  if (s.rowCounts) {
    out.line(`  rows         ${s.rowCounts.compared} tables compared, ${s.rowCounts.changed.length} changed${s.rowCounts.estimated.length ? ` (${s.rowCounts.estimated.length} estimated)` : ''}`);
    for (const c of s.rowCounts.changed) {
      if (s.rowCounts.lost.includes(c)) continue;
      const meant = s.rowCounts.expected?.find((e) => e.role === c.role && e.table === c.table);
      out.line(`  rows         ${describeChange(c)}${meant ? ` — expected: ${meant.why}` : ''}`);
    }
  }
  for (const w of s.warnings.filter((x) => x.effect?.kind !== 'rows-lost' && x.effect?.kind !== 'rehearsal')) out.line(`  ${paint(out, 'yellow', 'warn')}         ${w.summary}${w.fix ? ` (${w.fix})` : ''}`);
  // Lost rows last and loud: the one line nobody may miss on upgrade night.
  for (const w of s.warnings.filter((x) => x.effect?.kind === 'rows-lost')) {
    out.line(paint(out, 'red', paint(out, 'bold', `  !! ${w.summary}`)));
    if (w.fix) out.line(paint(out, 'red', `     ${w.fix}`));
  }
  for (const a of s.afterUpgrade) out.line(`  after        ${a.summary.replace(/^after the upgrade /, '')}${a.fix ? `: ${a.fix}` : ''}`);
}
