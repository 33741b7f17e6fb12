import { ConnectedTarget, finding, Finding, Gate, GateContext, type PlannedChange } from '../src/core/Gate.js';

const GATE = 'sort-memory';

/**
 * sort_buffer_size / work_mem of at least 20 MB for OpenMetadata's migrator ("Out of sort memory", docs/facts/parameters.md). It is
 * OpenMetadata's requirement, not Airflow's: the Airflow database is not judged, and with nothing pending for
 * OpenMetadata nothing is asked for (no global is raised for a migrator that will do nothing). A `warn` finding with
 * a raise-parameter effect is what the plan turns into a parameter change.
 */
export const sortMemoryGate: Gate = {
  id: GATE,
  title: 'Sort memory',
  async check(ctx: GateContext): Promise<Finding[]> {
    const t = ctx.targets.find((x) => x.role === 'openmetadata');
    const om = ctx.input.openmetadata;
    if (!t || !om) return [];
    const { formatBytes, parameterGroupHint } = ctx.tools;
    const parameter = t.dialect.capabilities.sortMemoryParameter;
    if (om.pending !== undefined && om.pending.length === 0) {
      return [finding(GATE, t.role, 'ok', `nothing pending for OpenMetadata: ${parameter} is not needed`, undefined, { parameter, needed: false })];
    }
    const current = await t.dialect.params.sortMemoryBytes({ role: t.spec.user, database: t.spec.database });
    const wanted = wantedBytes(ctx, t);
    const data = { parameter, currentBytes: current, wantedBytes: wanted, scope: scopeFor(ctx, t) };
    if (current >= wanted) {
      return [finding(GATE, t.role, 'ok', `${parameter} is ${formatBytes(current)} (at least ${formatBytes(wanted)})`, undefined, data)];
    }
    if (ctx.config.paramsMode === 'skip') {
      return [finding(GATE, t.role, 'block', `--params skip, but ${parameter} is still ${formatBytes(current)} for ${t.spec.user}`,
        `Set ${parameter} to at least ${formatBytes(wanted)} (and reload), or run without --params skip.`, data)];
    }
    const refusal = await whyNotAllowed(ctx, t);
    return [refusal
      ? finding(GATE, t.role, 'block', `${parameter} is ${formatBytes(current)}, below ${formatBytes(wanted)}, and ${refusal}`,
        `Give --admin-url with an account allowed to change it, or ${parameterGroupHint(t.spec.engine, parameter, t.spec.engine === 'mysql' ? String(wanted) : formatBytes(wanted).replace(' ', ''), t.server.managed)}`, data)
      : finding(GATE, t.role, 'warn', `${parameter} is ${formatBytes(current)}: will be raised to ${formatBytes(wanted)} for the migration and put back after`,
        undefined, data, { kind: 'raise-parameter', parameter: 'sort-memory' })];
  },
};

function wantedBytes(ctx: GateContext, t: ConnectedTarget): number {
  return t.dialect.capabilities.sortMemoryParameter === 'work_mem' ? ctx.config.workMemBytes : ctx.config.sortBufferBytes;
}

export function scopeFor(ctx: GateContext, t: ConnectedTarget): PlannedChange['scope'] {
  return t.dialect.capabilities.sortMemoryParameter === 'work_mem' ? ctx.config.workMemScope : 'global';
}

/** undefined when the connection that would make the change may make it; else the reason, as a sentence end. */
async function whyNotAllowed(ctx: GateContext, t: ConnectedTarget): Promise<string | undefined> {
  const admin = await ctx.adminFor(t);
  const who = admin ? admin.spec.user : t.spec.user;
  const privileges = admin ? await admin.privileges() : t.privileges;
  if (t.dialect.capabilities.sortMemoryParameter === 'sort_buffer_size') {
    return privileges.canSetGlobal ? undefined : `${who} lacks SUPER / SYSTEM_VARIABLES_ADMIN to SET GLOBAL it`;
  }
  const scope = ctx.config.workMemScope;
  if (scope === 'system' && !(await (admin ?? t.dialect).params.alterSystemAllowed())) {
    return 'ALTER SYSTEM is switched off on this server (allow_alter_system = off)';
  }
  if (privileges.superuser) return undefined;
  if (scope === 'database') {
    const ownsTarget = privileges.databaseOwner && (admin ? admin.spec.database === t.spec.database : true);
    return ownsTarget ? undefined : `${who} is neither superuser nor the owner of database ${t.spec.database} (ALTER DATABASE … SET)`;
  }
  if (scope === 'role') return who === t.spec.user ? undefined : `${who} is not superuser and may not ALTER ROLE ${t.spec.user}`;
  return `${who} is not superuser (ALTER SYSTEM)`;
}
