import type { BackupProgress } from '../backup/runBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { Finding } from '../core/Gate.js';
import type { StepEvent, StepSummary } from '../core/Step.js';
import type { RunPlan } from '../plan/buildPlan.js';
import type { RowCountComparison, TargetRowCounts } from '../targets/rowCounts.js';
import type { VersionFacts } from '../targets/readVersions.js';

export type { StepSummary } from '../core/Step.js';

export interface UpOptions {
  /** What the CLI shows while it runs; the library itself prints nothing. */
  onEvent?: (event: UpEvent) => void;
  /** up --plan FILE: the saved plan to execute instead of the one made now (refused when the databases moved on). */
  planFile?: string;
}

export type UpEvent =
  | { type: 'phase'; text: string }
  | { type: 'backup'; progress: BackupProgress }
  | StepEvent;

export interface ParameterSummary {
  target: TargetRole;
  parameter: string;
  scope: string;
  previous: string | null;
  raisedTo: string;
  restored: 'reverted' | 'deferred' | 'not-reverted';
}

export interface UpSummary {
  runId: string;
  /** 'nothing-pending': the migrators ran and did nothing; no backup was taken, no parameter raised. */
  outcome: 'migrated' | 'nothing-pending';
  /** One line for a container log: what happened. */
  message: string;
  /**
   * What the post-checks found that the operator must still do (ids the scheduler will reject, a shape left broken):
   * the same findings as in `warnings`, and the reason the CLI exits 15 (NEEDS_ACTION) instead of 0.
   */
  needsAction: Finding[];
  targetVersion: string | null;
  plan: RunPlan;
  /** The unfinished run of the same plan whose backups this one took over, if any. */
  resumedFrom: string | null;
  before: VersionFacts;
  after: VersionFacts;
  warnings: Finding[];
  /** What the crossed releases ask of the operator once the new version runs (OpenMetadata's upgrade pages). */
  afterUpgrade: Finding[];
  leftoversReverted: number;
  /** Journal rows that did not validate: reported, never run. */
  rejectedJournalRows: Array<{ id: string; journal: string; reason: string }>;
  /**
   * `decision` says which and why: "reusing backup X (taken N min ago, counts match)" or "new backup: <reason>"
   * (src/engine/upBackups.ts).
   */
  backups: Array<{ target: TargetRole; file: string; manifest: string; bytes: number; sha256: string; reused: boolean; reusedFrom: string | null;
    decision: string }>;
  parameters: ParameterSummary[];
  steps: StepSummary[];
  /** The watched tables' row counts before and after the steps, and every table whose count changed. */
  rowCounts: RowCountReport;
  /** The last rehearsal of this plan, as the preflight judged it ("rehearsed 14 min ago: 6 min 12 s, passed"). */
  rehearsal: Finding | null;
}

/** The "nothing lost" proof: counts before and after, what changed, what lost rows, and the backups to restore from. */
export interface RowCountReport extends RowCountComparison {
  before: TargetRowCounts[];
  after: TargetRowCounts[];
  backups: Array<{ target: TargetRole; manifest: string }>;
}
