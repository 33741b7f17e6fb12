import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { MigratorOptions } from '../config/migrators.js';

export type { MigratorOptions } from '../config/migrators.js';
import type { SpawnExit } from '../process/spawnChild.js';
import type { Finding } from './Gate.js';
import type { PlanInput } from './PlanInput.js';
import type { ConnectedTarget } from './Target.js';
import type { StepTools } from './Tools.js';
import type { Dialect } from '../dialects/types.js';

/** One migrator run a step asks for: the runner builds its environment, supervises it, redacts and bounds its output. */
export interface MigratorRun {
  /** Whose database it migrates: decides the environment it gets (OpenMetadata's DB_* names or Airflow's URL). */
  role: TargetRole;
  /** The program and its arguments. */
  argv: string[];
  cwd?: string;
  label: string;
  /** Sees every line of the migrator's output as it comes (redacted): a step looks for what only the output says. */
  onLine?(line: string): void;
}

export interface StepContext {
  /** What the plan was made from: the steps re-read the live state themselves, but their targets come from here. */
  input: PlanInput;
  config: RunConfig;
  runId: string;
  migrators: MigratorOptions;
  /** The connected database of a role, if this run has one. */
  target(role: TargetRole): ConnectedTarget | undefined;
  /** The verified admin connection of a role's server, if one was configured: it sees every account's sessions. */
  admin(role: TargetRole): Promise<Dialect | undefined>;
  /** Streams a line of the step's own output (the migrator's), for the terminal. */
  log(line: string): void;
  /** Aborted on SIGINT/SIGTERM and when the run lock is lost: a step must stop its child processes. */
  signal: AbortSignal;
  /** Runs a migrator as a supervised child that dies with om-migrate, stopped on abort or at the step's time limit. */
  runMigrator(run: MigratorRun): Promise<SpawnExit>;
  /** OpenMetadata's and Airflow's knowledge the steps run with: a step imports nothing but src/core. */
  tools: StepTools;
}

export interface StepOutcome {
  /** One line for the summary: "1.10.2 → 1.11.0", "05234396c6fc → cc92b33c6709". */
  detail: string;
  /** The last lines of the migrator's output, kept in the ledger. */
  outputTail?: string;
  /** What the step left for the operator (a search index to rebuild, ids to fix): warnings in the summary. */
  warnings?: Finding[];
}

/**
 * One Umzug migration under migrations/: a named step of `up`. migrations/index.ts lists them in the one order they
 * run; each says, from the live state, whether it is part of a plan and how it reads there.
 */
export interface Step {
  name: string;
  appliesTo(input: PlanInput): boolean;
  describe(input: PlanInput): string;
  /** How long it may run before it is stopped (--step-timeout overrides it). */
  defaultTimeoutMs: number;
  run(ctx: StepContext): Promise<StepOutcome>;
}

export interface StepSummary {
  name: string;
  status: 'done' | 'failed' | 'already-done';
  durationMs: number;
  /** The time limit it ran under: the plan's. */
  timeoutMs: number;
  detail: string;
}

/** What running the steps reports as it goes. */
export type StepEvent =
  | { type: 'step-started'; name: string }
  | { type: 'step-output'; name: string; line: string }
  | { type: 'step-finished'; name: string; status: StepSummary['status']; detail: string };
