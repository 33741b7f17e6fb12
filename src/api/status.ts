import type { TargetRole } from '../config/ConnectionSpec.js';
import { describeSpec } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { LedgerEntry } from '../dialects/types.js';
import { findUnreverted, type UnrevertedEntry } from '../params/index.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';
import { describeLockHolder, type LockHolderDescription } from '../lock/runLock.js';
import { openTargets } from '../targets/openTargets.js';
import { ledgerTargetOf, REHEARSAL_STEP, type RehearsalRecord } from '../rehearsal/rehearsalRecord.js';
import { inspectRestore, serverKeyOf, unfinishedRestoresOf, type RestoreState } from '../rescue/restoreRecord.js';
import { ROW_COUNT_STEP } from '../engine/executePlan.js';
import type { RowCountReport } from '../engine/upTypes.js';

export interface StatusReport {
  databases: Array<{ role: TargetRole; connection: string; lock: LockHolderDescription | null; ledger: LedgerEntry[] }>;
  versions: VersionFacts;
  unreverted: UnrevertedEntry[];
  /** The last run's row-count comparison (the "nothing lost" proof), from the ledger; null before any. */
  lastRowCounts: { runId: string; finishedAt: string | null; lost: boolean; comparison: RowCountReport | null } | null;
  /** The last rehearsal of any plan (up and preflight judge the one of their own plan). */
  /** Restores-on-failure that were cut off (SIGKILL), each database's state as its server shows it; up refuses until resolve-restore. */
  cutOffRestores: Array<{ runId: string; record: string; databases: RestoreState[] }>;
  lastRehearsal: { runId: string; planId: string; status: string; finishedAt: string | null; record: RehearsalRecord | null } | null;
}

const LEDGER_ROWS = 20;

/** Read-only: versions, the step ledger, unreverted parameter changes, and who holds the lock. */
export async function readStatus(config: RunConfig): Promise<StatusReport> {
  const opened = await openTargets(config, 'status');
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    const databases: StatusReport['databases'] = [];
    for (const t of opened.targets) {
      databases.push({
        role: t.role,
        connection: describeSpec(t.spec),
        lock: (await describeLockHolder(t)) ?? null,
        ledger: (await t.dialect.ledger.exists()) ? await t.dialect.ledger.recent(LEDGER_ROWS) : [],
      });
    }
    const ledger = ledgerTargetOf(opened.targets)?.dialect.ledger;
    const last = ledger ? await ledger.lastOf(ROW_COUNT_STEP) : undefined;
    const rehearsal = ledger ? await ledger.lastOf(REHEARSAL_STEP) : undefined;
    const cutOffRestores: StatusReport['cutOffRestores'] = [];
    for (const { path, record } of await unfinishedRestoresOf(config.backupDir, opened.targets.map((t) => ({ server: serverKeyOf(t.spec), database: t.spec.database })))) {
      const states: RestoreState[] = [];
      for (const entry of record.databases) {
        const target = opened.targets.find((t) => t.role === entry.role);
        const admin = target ? await opened.adminFor(target).catch(() => undefined) : undefined;
        states.push(admin ? await inspectRestore(entry, admin) : { role: entry.role, database: entry.database, phase: entry.phase,
          state: entry.phase === 'swapped' ? 'restored' : 'failed-state', kept: null, scratchLeft: null,
          text: `${entry.database}: the restore stopped while ${entry.phase} (give the admin connection to look at the server)` });
      }
      cutOffRestores.push({ runId: record.runId, record: path, databases: states });
    }
    return {
      cutOffRestores,
      databases, versions: await readVersions(opened.targets),
      unreverted: await findUnreverted(opened.targets, { journalDir: config.journalDir, adminFor: opened.adminFor }),
      lastRowCounts: last ? { runId: last.runId, finishedAt: last.finishedAt, lost: last.status === 'failed', comparison: parse(last.stateAfter) } : null,
      lastRehearsal: rehearsal ? { runId: rehearsal.runId, planId: rehearsal.planId, status: rehearsal.status, finishedAt: rehearsal.finishedAt,
        record: parse(rehearsal.stateAfter) as RehearsalRecord | null } : null,
    };
  } finally {
    await opened.close();
  }
}

function parse(text: string | null): RowCountReport | null {
  try {
    return text ? JSON.parse(text) as RowCountReport : null;
  } catch {
    return null;
  }
}
