import { detectAirflowState } from '../airflow/detectAirflowState.js';
import { readMigrationActivity } from '../airflow/migrationActivity.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { ConnectedTarget, VersionFacts } from '../core/Target.js';
import { expectedVersion, pendingVersions, readDistribution } from '../openmetadata/distribution.js';
import { migratorCommand } from '../openmetadata/migratorCommand.js';
import { commandArgv } from '../config/splitCommandLine.js';
import { spawnChild } from '../process/spawnChild.js';
import { configRedactor } from '../config/secrets.js';
import { migratorEnvironment } from '../steps/migratorEnvironment.js';
import { probeAirflowDriver } from './airflowDriverProbe.js';

/**
 * Reads what the plan is made from: the versions, the installed OpenMetadata distribution (its version folders against
 * SERVER_CHANGE_LOG, as its migrator will see them), Airflow's schema around task_instance, and whether the installed
 * Airflow has migrations to apply (its own check command). Read-only; the check is a child process that only reads.
 */
export async function readPlanInput(config: RunConfig, targets: ConnectedTarget[], versions: VersionFacts): Promise<PlanInput> {
  const input: PlanInput = { versions, fixStaleRuns: config.fixStaleRuns, airflowNeedsRepair: false };
  if (versions.openmetadata) {
    const distribution = readDistribution(config.migrators.omHome);
    const target = config.targetVersion ?? distribution?.reach;
    // The migrator has no target option: it runs whatever its release plans, so what is pending and where the database
    // ends up come from the distribution alone; a --to that differs is the versions gate's to refuse.
    input.openmetadata = {
      distribution,
      target,
      expected: distribution ? expectedVersion(distribution, distribution.reach) : target,
      pending: distribution ? pendingVersions(distribution, versions.openmetadata.recorded) : undefined,
      migrator: migratorCommand(config.migrators, config.env),
    };
  }
  const airflow = targets.find((t) => t.role === 'airflow');
  // While Airflow's migrator runs, PostgreSQL's task_instance sits behind its ACCESS EXCLUSIVE lock until it commits:
  // reading the shape would wait for the whole migration. Read nothing then; the running-migrator gate blocks.
  const migrating = airflow ? await readMigrationActivity(airflow.dialect) : undefined;
  if (airflow && versions.airflow && !migrating?.lockHolder && migrating?.ddl.length === 0) {
    const state = await detectAirflowState(airflow.dialect);
    input.airflowNeedsRepair = state.kind === 'half-applied';
    input.airflow = { state, ...(await airflowPending(config, airflow)) };
    // d59cbbef95eb sends two statements in one call: whether Airflow's driver runs them is asked of the driver itself.
    const ahead = state.kind === 'healthy-before' || state.kind === 'half-applied';
    if (ahead && airflow.dialect.airflow.driverProbeScript) input.airflow.driver = await probeAirflowDriver(config, airflow);
  }
  return input;
}

/** Asks the installed Airflow (airflow db check-migrations, or --airflow-check) whether it has migrations to apply. */
async function airflowPending(config: RunConfig, target: ConnectedTarget): Promise<{ pending: boolean | undefined; pendingSource: string }> {
  const check = config.migrators.airflowCheck;
  if (!check) return { pending: undefined, pendingSource: 'no check command for a custom migrator: --airflow-check' };
  const argv = commandArgv(check);
  const result = await spawnChild({
    argv, env: migratorEnvironment(target, config.env), stdout: 'lines', stderr: 'lines',
    redactor: configRedactor(config), timeoutMs: 120_000,
  }).exit;
  if (result.spawnError !== undefined || result.code === 127 || result.timedOut) {
    return { pending: undefined, pendingSource: `${check} could not tell (${result.spawnError ?? (result.timedOut ? 'timed out' : `exit ${result.code}`)})` };
  }
  return { pending: result.code !== 0, pendingSource: `${check} exited ${result.code}` };
}
