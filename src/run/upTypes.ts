import type { BackupProgress } from '../backup/runBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { Finding } from './Gate.js';
import type { VersionFacts } from './readVersions.js';
import type { MigratorOptions } from './Step.js';

export interface UpOptions {
  migrators: MigratorOptions;
  fixStaleRuns: boolean;
  /** What the CLI shows while it runs; the library itself prints nothing. */
  onEvent?: (event: UpEvent) => void;
}

export type UpEvent =
  | { type: 'phase'; text: string }
  | { type: 'backup'; progress: BackupProgress }
  | { type: 'step-started'; name: string }
  | { type: 'step-output'; name: string; line: string }
  | { type: 'step-finished'; name: string; status: StepSummary['status']; detail: string };

export interface StepSummary {
  name: string;
  status: 'done' | 'failed' | 'already-done';
  durationMs: number;
  detail: string;
}

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

