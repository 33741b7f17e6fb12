import { formatBytes } from '../src/config/units.js';
import type { ParameterScope } from '../src/dialects/types.js';
import { ConnectedTarget, finding, Finding, Gate, GateContext, PlannedChange } from '../src/core/Gate.js';
import { parameterGroupHint } from '../src/params/managedHint.js';

const GATE = 'sort-memory';

/** sort_buffer_size / work_mem of at least 20 MB for the migrator's sessions ("Out of sort memory", FACTS.md). */
export const sortMemoryGate: Gate = {
  id: GATE,
  title: 'Sort memory',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const t of ctx.targets) {
      const parameter = t.dialect.capabilities.sortMemoryParameter;
      const current = await t.dialect.params.sortMemoryBytes({ role: t.spec.user, database: t.spec.database });
      const wanted = wantedBytes(ctx, t);
      const data = { parameter, currentBytes: current, wantedBytes: wanted };
      if (current >= wanted) {
        findings.push(finding(GATE, t.role, 'ok', `${parameter} is ${formatBytes(current)} (at least ${formatBytes(wanted)})`, undefined, data));
        continue;
      }
      if (ctx.config.paramsMode === 'skip') {
        findings.push(finding(GATE, t.role, 'block', `--params skip, but ${parameter} is still ${formatBytes(current)} for ${t.spec.user}`,
          `Set ${parameter} to at least ${formatBytes(wanted)} (and reload), or run without --params skip.`, data));
        continue;
      }
      const refusal = await whyNotAllowed(ctx, t);
      findings.push(refusal
        ? finding(GATE, t.role, 'block', `${parameter} is ${formatBytes(current)}, below ${formatBytes(wanted)}, and ${refusal}`,
          `Give --admin-url with an account allowed to change it, or ${parameterGroupHint(t.spec.engine, parameter, t.spec.engine === 'mysql' ? String(wanted) : formatBytes(wanted).replace(' ', ''), t.server.managed)}`, data)
        : finding(GATE, t.role, 'warn', `${parameter} is ${formatBytes(current)}: will be raised to ${formatBytes(wanted)} for the migration and put back after`,
          undefined, data));
    }
    return findings;
  },
  async plan(ctx: GateContext): Promise<PlannedChange[]> {
    const planned: PlannedChange[] = [];
    if (ctx.config.paramsMode === 'skip') return planned;
    // OpenMetadata and Airflow on one server share a GLOBAL value: it is raised once (the run does the same).
    const seen = new Set<string>();
    for (const t of ctx.targets) {
      const changer = (await ctx.adminFor(t)) ?? t.dialect;
      const change = await changer.params.planSortMemory(wantedBytes(ctx, t), scopeFor(ctx, t), { role: t.spec.user, database: t.spec.database });
      if (!change) continue;
      const sql = changer.params.applyStatements(change);
      const key = `${t.spec.host}:${t.spec.port}|${sql.join(';')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      planned.push({
        gate: GATE,
        target: t.role,
        description: `${change.parameter} ${change.previous ?? '(not set)'} → ${change.next} at ${change.scope} scope${change.object ? ` (${change.object})` : ''}`,
        sql,
        revertSql: changer.params.revertStatements(change),
      });
    }
    return planned;
  },
};

function wantedBytes(ctx: GateContext, t: ConnectedTarget): number {
  return t.dialect.capabilities.sortMemoryParameter === 'work_mem' ? ctx.config.workMemBytes : ctx.config.sortBufferBytes;
}

export function scopeFor(ctx: GateContext, t: ConnectedTarget): ParameterScope {
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
  if (privileges.superuser) return undefined;
  if (scope === 'database') {
    const ownsTarget = privileges.databaseOwner && (admin ? admin.spec.database === t.spec.database : true);
    return ownsTarget ? undefined : `${who} is neither superuser nor the owner of database ${t.spec.database} (ALTER DATABASE … SET)`;
  }
  if (scope === 'role') return who === t.spec.user ? undefined : `${who} is not superuser and may not ALTER ROLE ${t.spec.user}`;
  return `${who} is not superuser (ALTER SYSTEM)`;
}
