import type { ConnectedTarget, Finding } from '../core/Gate.js';
import type { LedgerEntry } from '../dialects/types.js';
import type { RunPlan } from '../plan/buildPlan.js';

/** The ledger step under which a rehearsal is recorded in the real database, keyed by the real database's plan id. */
export const REHEARSAL_STEP = 'rehearse';

/** What a rehearsal row's state_after holds. */
export interface RehearsalRecord {
  outcome: 'passed' | 'failed' | 'interrupted';
  totalMs: number;
  /** Restore of the copy, and the plan's run on it. */
  restoreMs: number;
  runMs: number;
  steps: Array<{ name: string; status: string; durationMs: number }>;
  report: string | null;
  copy: string[];
}

/** The ledger of the real databases: OpenMetadata's, else the first. */
export function ledgerTargetOf(targets: ConnectedTarget[]): ConnectedTarget | undefined {
  return targets.find((t) => t.role === 'openmetadata') ?? targets[0];
}

/**
 * The preflight's word on the last rehearsal of this very plan (same starting state, target and steps): "rehearsed
 * 14 min 20 s ago: 6 min 12 s, passed", or a warning that none was made (a block with --require-rehearsal).
 */
export async function rehearsalFinding(targets: ConnectedTarget[], plan: RunPlan, require: boolean, now: number): Promise<Finding | undefined> {
  if (plan.nothingPending) return undefined;
  const ledger = ledgerTargetOf(targets)?.dialect.ledger;
  const entry = ledger ? await ledger.lastOf(REHEARSAL_STEP, plan.id) : undefined;
  const record = entry ? parseRecord(entry) : undefined;
  const fix = 'Run om-migrate rehearse (same configuration): it runs this plan on a scratch copy restored from a verified backup.';
  const missing = require ? 'block' as const : 'warn' as const;
  if (!entry) {
    return { gate: 'rehearsal', effect: { kind: 'rehearsal' }, target: 'run', severity: missing, summary: `no rehearsal of this plan (${plan.id}) was made${require ? ' and --require-rehearsal asks for one' : ''}`, fix,
      data: { code: 'not-rehearsed', planId: plan.id } };
  }
  const ago = formatDuration(now - Date.parse(entry.finishedAt ?? entry.startedAt));
  const took = record ? formatDuration(record.totalMs) : 'unknown time';
  const outcome = entry.status === 'done' ? 'passed' : entry.status === 'running' ? 'still running or killed' : entry.status;
  const summary = `rehearsed ${ago} ago: ${took}, ${outcome}`;
  const data = { code: entry.status === 'done' ? 'rehearsed' : 'rehearsal-failed', planId: plan.id, runId: entry.runId, report: record?.report ?? null,
    totalMs: record?.totalMs ?? null, restoreMs: record?.restoreMs ?? null, steps: record?.steps ?? [] };
  if (entry.status === 'done') return { gate: 'rehearsal', effect: { kind: 'rehearsal' }, target: 'run', severity: 'ok', summary, data };
  return { gate: 'rehearsal', effect: { kind: 'rehearsal' }, target: 'run', severity: missing, summary: `${summary}${entry.outputTail ? ` (${entry.outputTail.split('\n')[0]})` : ''}`,
    fix: `Read the rehearsal's report${record?.report ? ` (${record.report})` : ''}, fix what failed, and rehearse again.`, data };
}

function parseRecord(entry: LedgerEntry): RehearsalRecord | undefined {
  try {
    return entry.stateAfter ? JSON.parse(entry.stateAfter) as RehearsalRecord : undefined;
  } catch {
    return undefined;
  }
}

/** "6 min 12 s", "14 s", "2 h 3 min" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return ms < 10_000 && ms > 0 ? `${(ms / 1000).toFixed(1)} s` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
