import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { MigratorOptions } from '../config/migrators.js';

export type { MigratorOptions } from '../config/migrators.js';
import type { SpawnExit } from '../process/spawnChild.js';
import type { ConnectedTarget } from './Target.js';

/** One migrator run a step asks for: the runner builds its environment, supervises it, redacts and bounds its output. */
export interface MigratorRun {
  /** Whose database it migrates: decides the environment it gets (OpenMetadata's DB_* names or Airflow's URL). */
  role: TargetRole;
  /** The program and its arguments. */
  argv: string[];
  cwd?: string;
  label: string;
}

export interface StepContext {
  config: RunConfig;
  runId: string;
  migrators: MigratorOptions;
  /** The connected database of a role, if this run has one. */
  target(role: TargetRole): ConnectedTarget | undefined;
  /** Streams a line of the step's own output (the migrator's), for the terminal. */
  log(line: string): void;
  /** Aborted on SIGINT/SIGTERM and when the run lock is lost: a step must stop its child processes. */
  signal: AbortSignal;
  /** Runs a migrator as a supervised child that dies with om-migrate, stopped on abort or at the step's time limit. */
  runMigrator(run: MigratorRun): Promise<SpawnExit>;
}

export interface StepOutcome {
  /** One line for the summary: "1.10.2 → 1.11.0", "05234396c6fc → cc92b33c6709". */
  detail: string;
  /** The last lines of the migrator's output, kept in the ledger. */
  outputTail?: string;
}

/** One Umzug migration under migrations/: a named step of `up`. */
export interface Step {
  name: string;
  run(ctx: StepContext): Promise<StepOutcome>;
}

export interface StepSummary {
  name: string;
  status: 'done' | 'failed' | 'already-done';
  durationMs: number;
  detail: string;
}

/** What running the steps reports as it goes. */
export type StepEvent =
  | { type: 'step-started'; name: string }
  | { type: 'step-output'; name: string; line: string }
  | { type: 'step-finished'; name: string; status: StepSummary['status']; detail: string };
