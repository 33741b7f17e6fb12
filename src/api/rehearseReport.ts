import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../config/units.js';
import { formatDuration } from '../rehearsal/rehearsalRecord.js';
import { describeChange } from '../targets/rowCounts.js';
import type { RehearsalSummary } from './rehearse.js';

/** The rehearsal as Markdown, for a change ticket. */
export function rehearsalMarkdown(s: RehearsalSummary): string {
  const lines: string[] = [];
  const verdict = s.outcome === 'passed' ? 'PASSED' : s.outcome.toUpperCase();
  lines.push(`# om-migrate rehearsal: ${verdict}`, '');
  lines.push(`- plan: ${s.plan.summary} (plan id \`${s.plan.id}\`, target ${s.plan.targetVersion ?? '-'})`);
  lines.push(`- run: \`${s.runId}\`, finished ${new Date().toISOString()}`);
  lines.push(`- total: ${formatDuration(s.timings.totalMs)} (restore ${formatDuration(s.timings.restoreMs)}, plan run ${formatDuration(s.timings.runMs)}); `
    + `the backups it was restored from took ${formatDuration(s.timings.backupMs)} to make`);
  if (s.removedLeftovers.length > 0) lines.push(`- removed first, left by a killed rehearsal: ${s.removedLeftovers.map((n) => `\`${n}\``).join(', ')}`);
  lines.push('', '## Copies', '', '| database | copy | backup | size | backup took | restore took | dropped |', '|---|---|---|---|---|---|---|');
  for (const c of s.copies) {
    lines.push(`| ${c.role}: ${c.database} | \`${c.copy}\` | ${c.manifest} (${c.backupSource}) | ${formatBytes(c.bytes)} | ${formatDuration(c.backupMs)} | ${formatDuration(c.restoreMs)} | ${c.dropped ? 'yes' : 'no (kept)'} |`);
  }
  if (s.planDiff) {
    lines.push('', '## Plan on the copies', '');
    if (s.planDiff.length === 0) lines.push('The copies\' plan is the real databases\' plan, step for step.');
    else {
      lines.push('| what | real databases | copies |', '|---|---|---|');
      for (const d of s.planDiff) lines.push(`| ${d.what} | ${d.a.replace(/\|/g, '\\|')} | ${d.b.replace(/\|/g, '\\|')} |`);
    }
  }
  lines.push('', '## Steps', '', '| step | status | wall time | detail |', '|---|---|---|---|');
  for (const st of s.steps) lines.push(`| ${st.name} | ${st.status} | ${formatDuration(st.durationMs)} | ${st.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  if (s.steps.length === 0) lines.push('| (none ran) | | | |');
  if (s.run) {
    lines.push('', '## What changed', '');
    lines.push(`- ${s.run.message}`);
    for (const p of s.run.parameters) lines.push(`- parameter ${p.parameter} (${p.scope}): ${p.previous ?? '(not set)'} → ${p.raisedTo} → ${p.restored}`);
  }
  if (s.rowCounts) {
    lines.push('', '## Row counts', '');
    lines.push(`${s.rowCounts.compared} tables compared; ${s.rowCounts.changed.length} changed; ${s.rowCounts.lost.length} lost rows.`, '');
    for (const c of s.rowCounts.changed) lines.push(`- ${s.rowCounts.lost.includes(c) ? '**LOST** ' : ''}${describeChange(c)}`);
    for (const e of s.rowCounts.estimated) lines.push(`- ${e.role}.${e.table}: ${e.note}`);
  }
  const warnings = s.run?.warnings ?? [];
  if (warnings.length > 0 || s.failure) {
    lines.push('', '## Warnings and failures', '');
    for (const w of warnings) lines.push(`- ${w.severity}: ${w.summary}${w.fix ? ` — ${w.fix}` : ''}`);
    if (s.failure) {
      lines.push(`- **${s.failure.code}**: ${s.failure.message}`);
      if (s.failure.hint) lines.push(`  - fix: ${s.failure.hint}`);
      const output = outputOf(s.failure.details);
      if (output) lines.push('', '```', output, '```');
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** The failed step's output as the error carries it (the migrator's tail), if any. */
export function outputOf(details: Record<string, unknown> | undefined): string | undefined {
  if (!details) return undefined;
  for (const key of ['outputTail', 'output', 'tail']) if (typeof details[key] === 'string') return details[key] as string;
  return undefined;
}

/** rehearsal-<database>-<UTC>.md beside the backups, mode 0600; returns its path. */
export async function writeRehearsalReport(backupDir: string, s: RehearsalSummary): Promise<string> {
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const database = (s.copies[0]?.database ?? 'databases').replace(/[^A-Za-z0-9_.-]/g, '_');
  const path = join(backupDir, `rehearsal-${database}-${stamp}.md`);
  await writeFile(path, rehearsalMarkdown(s), { mode: 0o600 });
  return path;
}
