import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { ConnectedTarget } from './Gate.js';

/** How `up` runs the real migrators; all optional, with OpenMetadata's and Airflow's own defaults. */
export interface MigratorOptions {
  /** OpenMetadata's home in the server image (holds bootstrap/openmetadata-ops.sh and conf/). */
  omHome: string;
  /** The full command that migrates the OpenMetadata database, overriding the ops script. */
  omCommand?: string;
  /** The full command that migrates the Airflow database, default `airflow db migrate`. */
  airflowCommand: string;
  /** openmetadata.yaml for the ops script's -c. */
  omConfig?: string;
}

export interface StepContext {
  config: RunConfig;
  runId: string;
  migrators: MigratorOptions;
  /** The connected database of a role, if this run has one. */
  target(role: TargetRole): ConnectedTarget | undefined;
  /** Streams a line of the step's own output (the migrator's), for the terminal. */
  log(line: string): void;
  /** Aborted on SIGINT/SIGTERM: a step must stop its child processes. */
  signal: AbortSignal;
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
