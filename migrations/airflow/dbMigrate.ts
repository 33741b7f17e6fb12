import { finding, type Finding } from '../../src/core/Gate.js';
import type { Step, StepContext } from '../../src/core/Step.js';
import { OmMigrateError } from '../../src/errors.js';

const NAME = 'airflow/db-migrate';

/**
 * `airflow db migrate` (or the configured command) against the Airflow database, always run: with nothing pending it
 * does nothing. Afterwards the result is checked as preflight would check it: ids malformed by a 3.0.0–3.0.5 migrator
 * (apache/airflow#54554) are reported with the command that fixes them, never passed over as "done".
 */
export const airflowDbMigrateStep: Step = {
  name: NAME,
  defaultTimeoutMs: 6 * 3_600_000,
  appliesTo: (input) => input.airflow !== undefined,
  describe(input) {
    const af = input.airflow!;
    const from = input.versions.airflow?.revision ?? 'an empty database';
    const pending = af.pending === undefined ? `whether anything is pending is not known (${af.pendingSource})`
      : af.pending ? `migrations pending (${af.pendingSource})` : `nothing pending (${af.pendingSource}): it runs and does nothing`;
    return `airflow db migrate from ${from}; ${pending}`;
  },
  async run(ctx: StepContext) {
    const target = ctx.target('airflow');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an Airflow database`);
    // Preflight checked this before the backups and the OpenMetadata migration; an ingestion container may have
    // started its own `airflow db migrate` since. Two migrators must never run at once.
    const { assertNoMigrationRunning, detectAirflowState } = ctx.tools.airflow;
    await assertNoMigrationRunning(target.dialect, 'starting airflow db migrate', await ctx.admin('airflow'));
    const before = await target.dialect.airflow.revision();
    const command = ctx.config.migrators.airflowCommand;
    const result = await ctx.runMigrator({ role: 'airflow', argv: ctx.tools.commandArgv(command), label: NAME });
    const after = await target.dialect.airflow.revision();
    if (result.code !== 0) {
      const how = result.timedOut ? 'ran past its time limit and was stopped' : result.signal ? `was killed by ${result.signal}`
        : result.spawnError ? `could not be started (${result.spawnError})` : `exited with ${result.code}`;
      throw new OmMigrateError('STEP_FAILED', `the Airflow migrator ${how}; alembic_version is ${after ?? 'empty'}`, {
        hint: failureHint(result.tail),
        details: { step: NAME, exitCode: result.code, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    // Checked as preflight would check it: a "done" over ids the scheduler will reject, or over a shape preflight
    // would block on, would be a lie.
    const warnings: Finding[] = [];
    const state = await detectAirflowState(target.dialect);
    if (state.facts.malformedIdCount > 0) {
      warnings.push(finding('airflow-state', 'airflow', 'warn', `${state.facts.malformedIdCount} task_instance ids are malformed (apache/airflow#54554)`,
        'The scheduler fails on them ("invalid group length in group 4"): run om-migrate repair-airflow --fix-malformed-ids.',
        { code: 'malformed-ids', count: state.facts.malformedIdCount }, { kind: 'needs-action' }));
    }
    if (state.kind === 'half-applied' || (state.kind === 'unrecognised' && state.facts.taskInstanceExists)) {
      warnings.push(finding('airflow-state', 'airflow', 'warn', `after the migrator: ${state.summary}`,
        state.kind === 'half-applied' ? 'Run om-migrate repair-airflow, then om-migrate up again.' : 'Inspect task_instance by hand.',
        { code: state.kind, damage: state.damage }, { kind: 'needs-action' }));
    }
    const checked = warnings.length > 0 ? `; NOT clean: ${warnings.map((w) => `${w.summary} (${w.fix})`).join('; ')}` : '';
    return { detail: `${before ?? 'empty'} → ${after ?? 'empty'}${checked}`, outputTail: result.tail, warnings };
  },
};

/**
 * What to do after a failed migrator. "Run up again" only where that helps: up repairs a half-applied d59cbbef95eb
 * first. A 1064 at its DROP/CREATE FUNCTION pair means the driver runs no multi-statements, and would fail the same way
 * at every attempt (docs/facts/airflow.md): say what to change instead.
 */
function failureHint(tail: string): string {
  if (/\b1064\b/.test(tail) && /DROP FUNCTION IF EXISTS uuid_generate_v7;/.test(tail)) {
    return 'Airflow\'s driver sent d59cbbef95eb\'s DROP/CREATE FUNCTION pair as one statement (no multi-statements): running up again fails '
      + 'the same way. Add client_flag=196608 (MULTI_STATEMENTS | MULTI_RESULTS) to the Airflow URL\'s query, or install mysqlclient 2.x in '
      + 'Airflow\'s environment; then om-migrate up repairs the half-applied state and migrates.';
  }
  return 'If it stopped in d59cbbef95eb, run om-migrate up again: it repairs that state first, then migrates.';
}
