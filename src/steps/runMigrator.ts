import type { ConnectedTarget } from '../core/Target.js';
import type { MigratorRun } from '../core/Step.js';
import type { Environment } from '../process/childEnv.js';
import type { Redactor } from '../process/redact.js';
import { spawnChild, type SpawnExit } from '../process/spawnChild.js';
import { migratorEnvironment } from './migratorEnvironment.js';

export interface MigratorRunner {
  /** Whose database the migrator works on: its connection becomes the migrator's DB_* names or Airflow's URL. */
  target: Pick<ConnectedTarget, 'role' | 'spec'>;
  redactor: Redactor;
  signal: AbortSignal;
  timeoutMs: number;
  /** SIGKILL this long after SIGTERM (spawnChild's default when absent). */
  graceMs?: number;
  onLine(line: string): void;
  /** Told the migrator's process group when it starts (undefined again when it is gone), for the lock holder's row. */
  onChild?(pgid: number | undefined): Promise<void>;
  /** The run's environment (RunConfig.env), which the migrator's is made from. */
  env: Environment;
}

/**
 * Runs a migrator for a step: the environment it expects for its database (and nothing of om-migrate's own secrets),
 * under a supervisor so it dies with om-migrate, stopped on abort or at the time limit (SIGTERM, then SIGKILL, to all it
 * started), and reported only once nothing it started is left; output redacted and bounded.
 */
export async function runMigrator(run: MigratorRun, runner: MigratorRunner): Promise<SpawnExit> {
  const child = spawnChild({
    argv: run.argv,
    cwd: run.cwd,
    env: migratorEnvironment(runner.target, runner.env),
    stdout: 'lines',
    stderr: 'lines',
    onLine: runner.onLine,
    redactor: runner.redactor,
    signal: runner.signal,
    timeoutMs: runner.timeoutMs,
    graceMs: runner.graceMs,
    followTree: true,
  });
  await runner.onChild?.(child.pgid);
  try {
    return await child.exit;
  } finally {
    await runner.onChild?.(undefined);
  }
}
