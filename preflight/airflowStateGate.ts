import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'airflow-state';

/**
 * A half-applied d59cbbef95eb (docs/facts/airflow.md, "How `airflow db migrate` runs it") makes `airflow db migrate` fail again on the next start.
 * preflight blocks on it; up repairs it as its first step, after the backup, so there it is not a block.
 */
export const airflowStateGate: Gate = {
  id: GATE,
  title: 'Airflow state',
  async check(ctx: GateContext): Promise<Finding[]> {
    // Read once for the whole plan (readPlanInput): the gate judges what the repair step will be planned from.
    const state = ctx.input.airflow?.state;
    if (!state) return [];
    const extra = await pgcryptoFinding(ctx);
    return [...judge(ctx, state), ...(extra ? [extra] : []), ...foreignFunction(ctx, state)];
  },
};

/**
 * d59cbbef95eb installs pgcrypto on PostgreSQL when it may and leaves it (docs/facts/airflow.md): reported so the
 * operator knows where it came from, and never dropped by om-migrate, because other code may use it.
 */
async function pgcryptoFinding(ctx: GateContext): Promise<Finding | undefined> {
  const target = ctx.targets.find((t) => t.role === 'airflow');
  const schema = await target?.dialect.airflow.pgcryptoSchema();
  if (schema === undefined) return undefined;
  return finding(GATE, 'airflow', 'ok', `the pgcrypto extension is installed (schema ${schema}); Airflow's d59cbbef95eb installs it when it may`,
    'om-migrate leaves it: other code may use it. Drop it yourself only if nothing else does.', { pgcrypto: schema });
}

/**
 * A uuid_generate_v7 that nothing proves to be d59cbbef95eb's leftover is someone's own: om-migrate never drops it. But
 * Airflow's migration will: MySQL's step 2 runs DROP FUNCTION IF EXISTS uuid_generate_v7 before creating its own, and
 * PostgreSQL's CREATE OR REPLACE FUNCTION takes over one of the same signature; step 4 then drops it. Said before it
 * happens, while d59cbbef95eb is ahead.
 */
function foreignFunction(ctx: GateContext, state: NonNullable<GateContext['input']['airflow']>['state']): Finding[] {
  const f = state.facts;
  if (!f.uuidFunction || f.leftoverFunction) return [];
  if (state.kind !== 'healthy-before' && state.kind !== 'half-applied') return [];
  const target = ctx.targets.find((t) => t.role === 'airflow');
  const how = target?.spec.engine === 'postgres'
    ? 'd59cbbef95eb replaces uuid_generate_v7(timestamp with time zone) with its own (CREATE OR REPLACE FUNCTION), then drops it'
    : 'd59cbbef95eb drops uuid_generate_v7 (DROP FUNCTION IF EXISTS) to create its own, then drops that';
  return [finding(GATE, 'airflow', 'warn', `a uuid_generate_v7 function that Airflow's migration did not leave is in the schema: ${how}, so it will be gone afterwards`,
    'om-migrate leaves it alone; if anything uses it, rename it or move it to another schema before the upgrade (the backup holds it).',
    { code: 'foreign-uuid-function' })];
}

function judge(ctx: GateContext, state: NonNullable<GateContext['input']['airflow']>['state']): Finding[] {
  const data = { kind: state.kind, damage: state.damage, revision: state.facts.revision ?? null,
    malformedIds: state.facts.malformedIdCount, repairable: state.kind === 'half-applied' };
  switch (state.kind) {
    case 'half-applied':
      return [ctx.command === 'up'
        ? finding(GATE, 'airflow', 'warn', `${state.summary}: up repairs it first, after the backup`, undefined, data)
        : finding(GATE, 'airflow', 'block', state.summary,
          'Run om-migrate repair-airflow (or om-migrate up, which repairs it first, after the backup).', data)];
    case 'fully-migrated':
      return [state.facts.malformedIdCount > 0
        ? finding(GATE, 'airflow', 'warn', state.summary,
          'The scheduler will fail on them ("invalid group length in group 4"): run om-migrate repair-airflow --fix-malformed-ids.', data)
        : finding(GATE, 'airflow', 'ok', state.summary, undefined, data)];
    case 'healthy-before':
      return [finding(GATE, 'airflow', 'ok', state.summary, undefined, data)];
    case 'unrecognised':
      if (!state.facts.taskInstanceExists && !state.facts.revision) {
        return [finding(GATE, 'airflow', 'ok', 'no Airflow tables yet: airflow db migrate will create them', undefined, data)];
      }
      return [finding(GATE, 'airflow', 'block', state.summary,
        'Inspect task_instance by hand (or restore a backup); om-migrate will not guess at a shape it does not know.', data)];
  }
}
