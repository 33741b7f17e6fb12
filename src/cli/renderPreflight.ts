import type { Finding } from '../core/Gate.js';
import type { PreflightReport } from '../api/preflight.js';
import { formatDuration } from '../rehearsal/rehearsalRecord.js';
import { Output, paint } from './output.js';

const MARK: Record<Finding['severity'], [string, 'green' | 'yellow' | 'red']> = {
  ok: ['ok   ', 'green'],
  warn: ['warn ', 'yellow'],
  block: ['BLOCK', 'red'],
};

/** The human form of a preflight report: findings grouped by database, then the plan, then one verdict line. */
export function renderPreflight(report: PreflightReport, out: Output): void {
  const groups: Array<{ key: Finding['target']; title: string }> = [
    ...report.targets.map((t) => ({ key: t.role, title: `${t.role}  ${t.connection}` })),
    { key: 'run', title: 'run' },
  ];
  for (const group of groups) {
    const findings = report.findings.filter((f) => f.target === group.key);
    if (findings.length === 0) continue;
    out.line(paint(out, 'bold', group.title));
    for (const f of findings) {
      const [label, colour] = MARK[f.severity];
      out.line(`  ${paint(out, colour, label)} ${f.gate.padEnd(13)} ${f.summary}`);
      if (f.fix && f.severity !== 'ok') out.line(`        ${''.padEnd(13)} ${paint(out, 'dim', `fix: ${f.fix}`)}`);
    }
  }
  if (report.plan) {
    const { backups, parameterChanges, steps } = report.plan;
    out.line(paint(out, 'bold', 'plan of `om-migrate up` (nothing was changed)'));
    out.line(`  ${report.plan.summary}${report.plan.nothingPending ? ': nothing pending, so no backup and no parameter change; the migrators run and do nothing' : ''}`);
    if (report.plan.releasePath.length > 1) out.line(`  path     ${report.plan.releasePath.join(' → ')}`);
    if (report.plan.betterTarget) out.line(`  better   ${report.plan.betterTarget.release}: ${report.plan.betterTarget.why}`);
    for (const b of backups) out.line(`  backup   ${b.target}: ${b.file}`);
    for (const c of parameterChanges) {
      out.line(`  param    ${c.target}: ${c.description}`);
      for (const sql of c.sql ?? []) out.line(`             run:    ${sql}`);
      for (const sql of c.revertSql ?? []) out.line(`             revert: ${sql}`);
    }
    steps.forEach((s, i) => out.line(`  step ${i + 1}   ${s.name}: ${s.description} (stopped after ${formatDuration(s.timeoutMs)})`));
    const failure = report.plan.onFailure;
    if (failure && !report.plan.nothingPending) {
      out.line(`  failure  ${failure.summary}`);
      for (const d of failure.databases) out.line(`           ${d.target}: restored into ${d.scratch}, the failed state kept as ${d.kept}`);
      if (failure.restore) {
        out.line(`           ${failure.lastRehearsalRestoreMs === null ? 'no rehearsal recorded how long the restore takes (om-migrate rehearse measures it)'
          : `the last rehearsal restored in ${(failure.lastRehearsalRestoreMs / 1000).toFixed(1)} s`}`);
      }
    }
    if (report.planFile) out.line(`  saved    ${report.planFile}: om-migrate up --plan ${report.planFile} runs exactly this plan`);
  }
  const blocks = report.findings.filter((f) => f.severity === 'block').length;
  const warns = report.findings.filter((f) => f.severity === 'warn').length;
  const verdict = blocks > 0 ? paint(out, 'red', `BLOCKED: ${blocks} block(s), ${warns} warning(s)`)
    : paint(out, 'green', `OK: ${warns} warning(s)`);
  out.line(verdict);
}

/**
 * When preflight does not pass, one line on stderr says why (the first block), with its fix: scripts and container
 * logs that keep only stderr still see the reason. The full report stays on stdout.
 */
export function reportVerdictOnStderr(report: PreflightReport, out: Output): void {
  const blocks = report.findings.filter((f) => f.severity === 'block');
  const first = blocks.find((f) => f.effect?.kind === 'unreachable') ?? blocks[0];
  if (!first) return;
  const what = report.unreachable ? 'cannot connect' : 'blocked';
  const more = blocks.length > 1 ? ` (and ${blocks.length - 1} more block(s) in the report)` : '';
  out.error(`om-migrate: ${what}: ${first.summary}${more}`);
  if (first.fix) out.error(`  fix: ${first.fix}`);
  // The connection hints promise the driver's own words with --verbose (already stripped of the password).
  if (out.verbose) {
    for (const f of blocks) if (typeof f.data?.driverMessage === 'string') out.error(`  driver (${f.target}): ${f.data.driverMessage}`);
  }
}
