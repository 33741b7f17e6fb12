import { OmMigrateError } from '../../src/errors.js';
import type { Step, StepContext } from '../../src/core/Step.js';

const NAME = 'airflow/db-migrate';

/** Runs `airflow db migrate` (or the configured command) against the Airflow database. */
export const airflowDbMigrateStep: Step = {
  name: NAME,
  async run(ctx: StepContext) {
    const target = ctx.target('airflow');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an Airflow database`);
    const before = await target.dialect.airflow.revision();
    const result = await ctx.runMigrator({ role: 'airflow', argv: ['/bin/sh', '-c', ctx.migrators.airflowCommand], label: NAME });
    const after = await target.dialect.airflow.revision();
    if (result.code !== 0) {
      const how = result.timedOut ? 'ran past its time limit and was stopped' : result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
      throw new OmMigrateError('STEP_FAILED', `the Airflow migrator ${how}; alembic_version is ${after ?? 'empty'}`, {
        hint: 'If it stopped in d59cbbef95eb, run om-migrate repair-airflow (up does it first on the next run); then run up again.',
        details: { step: NAME, exitCode: result.code, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    return { detail: `${before ?? 'empty'} → ${after ?? 'empty'}`, outputTail: result.tail };
  },
};
