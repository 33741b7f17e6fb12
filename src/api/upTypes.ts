import type { BackupProgress } from '../backup/runBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { Finding } from '../core/Gate.js';
import type { VersionFacts } from '../targets/readVersions.js';
import type { StepEvent, StepSummary } from '../core/Step.js';

export type { StepSummary } from '../core/Step.js';

export interface UpOptions {
  /** What the CLI shows while it runs; the library itself prints nothing. */
  onEvent?: (event: UpEvent) => void;
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
  targetVersion: string | null;
  before: VersionFacts;
  after: VersionFacts;
  warnings: Finding[];
  leftoversReverted: number;
  backups: Array<{ target: TargetRole; file: string; manifest: string; bytes: number; sha256: string; reused: boolean }>;
  parameters: ParameterSummary[];
  steps: StepSummary[];
}

