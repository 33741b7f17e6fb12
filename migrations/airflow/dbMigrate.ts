import { OmMigrateError } from '../../src/errors.js';
import { airflowEnvironment } from '../../src/run/migratorEnvironment.js';
import { runCommand } from '../../src/run/runCommand.js';
import type { Step, StepContext } from '../../src/run/Step.js';

const NAME = 'airflow/db-migrate';

/** Runs `airflow db migrate` (or the configured command) against the Airflow database. */
export const airflowDbMigrateStep: Step = {
  name: NAME,
  async run(ctx: StepContext) {
    const target = ctx.target('airflow');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an Airflow database`);
    const before = await target.dialect.airflow.revision();
    const result = await runCommand(ctx.migrators.airflowCommand, airflowEnvironment(target.spec),
      { onLine: ctx.log, signal: ctx.signal, label: NAME });
    const after = await target.dialect.airflow.revision();
    if (result.exitCode !== 0) {
      throw new OmMigrateError('STEP_FAILED', `the Airflow migrator exited with ${result.exitCode}; alembic_version is ${after ?? 'empty'}`, {
        hint: 'If it stopped in d59cbbef95eb, run om-migrate repair-airflow (up does it first on the next run); then run up again.',
        details: { step: NAME, exitCode: result.exitCode, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    return { detail: `${before ?? 'empty'} → ${after ?? 'empty'}`, outputTail: result.tail };
  },
};
