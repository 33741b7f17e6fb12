import { resolveConfig } from '../../config/resolveConfig.js';
import { runRehearse, type RehearsalSummary } from '../../api/rehearse.js';
import { outputOf } from '../../api/rehearseReport.js';
import { describeDifference } from '../../plan/planDiff.js';
import { formatDuration } from '../../rehearsal/rehearsalRecord.js';
import { describeChange } from '../../targets/rowCounts.js';
import { EXIT } from '../exitCodes.js';
import { Output, paint } from '../output.js';
import type { CommandSpec } from './CommandSpec.js';
import { eventPrinter } from './up.js';

export const rehearseCommand: CommandSpec = {
  name: 'rehearse',
  async run(input, out) {
    const config = resolveConfig(input, process.env, { command: 'rehearse' });
    const summary = await runRehearse(config, {
      manifest: input.manifest === undefined ? undefined : String(input.manifest),
      keepCopy: Boolean(input.keepCopy),
      onEvent: await eventPrinter(out),
    });
    // A rehearsal that ran and failed is a result (the report says why), with the exit status of a failed step.
    const exitCode = summary.outcome === 'interrupted' ? EXIT.INTERRUPTED : summary.outcome === 'failed' ? EXIT.STEP_FAILED : EXIT.OK;
    out.result('rehearse', exitCode, summary, () => renderRehearsal(summary, out));
    return exitCode;
  },
};

function renderRehearsal(s: RehearsalSummary, out: Output): void {
  const colour = s.outcome === 'passed' || s.outcome === 'nothing-pending' ? 'green' : 'red';
  out.line(paint(out, 'bold', `om-migrate rehearse: ${paint(out, colour, s.outcome.toUpperCase())} — ${s.message}`));
  for (const name of s.removedLeftovers) out.line(`  removed      ${name}, left by a killed rehearsal`);
  for (const c of s.copies) {
    out.line(`  copy         ${c.role}: ${c.copy} from ${c.manifest} (${c.backupSource}); restore ${formatDuration(c.restoreMs)}; ${c.dropped ? 'dropped' : 'kept'}`);
  }
  if (s.planDiff) {
    out.line(s.planDiff.length === 0 ? '  plan         the copies\' plan is the real databases\' plan, step for step'
      : paint(out, 'yellow', `  plan         the copies' plan differs from the real databases' (real | copy):`));
    for (const d of s.planDiff) out.line(paint(out, 'yellow', `  plan         ${describeDifference(d)}`));
  }
  for (const st of s.steps) out.line(`  step         ${st.name}: ${st.status} in ${formatDuration(st.durationMs)} — ${st.detail}`);
  if (s.run) for (const p of s.run.parameters) out.line(`  parameter    ${p.target}: ${p.parameter} ${p.previous ?? '(not set)'} → ${p.raisedTo} → ${p.restored}`);
  if (s.rowCounts) {
    out.line(`  rows         ${s.rowCounts.compared} tables compared, ${s.rowCounts.changed.length} changed`);
    for (const c of s.rowCounts.changed) out.line(`  rows         ${describeChange(c)}`);
  }
  for (const w of s.run?.warnings ?? []) out.line(`  ${paint(out, 'yellow', 'warn')}         ${w.summary}${w.fix ? ` (${w.fix})` : ''}`);
  if (s.failure) {
    out.line(paint(out, 'red', `  failed       ${s.failure.message}`));
    if (s.failure.hint) out.line(`  fix          ${s.failure.hint}`);
    const output = outputOf(s.failure.details);
    if (output) for (const line of output.split('\n').slice(-15)) out.line(paint(out, 'dim', `    ${line}`));
  }
  out.line(`  total        ${formatDuration(s.timings.totalMs)}: restore ${formatDuration(s.timings.restoreMs)} + run ${formatDuration(s.timings.runMs)} (the backups took ${formatDuration(s.timings.backupMs)})`);
  if (s.report) out.line(`  report       ${s.report}`);
}
