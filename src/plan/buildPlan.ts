import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { STEPS } from '../../migrations/index.js';
import { backupDirectoryName, backupFileName } from '../backup/backupFileName.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { Finding, GateContext, PlannedChange } from '../core/Gate.js';
import { nothingPending, type PlanInput } from '../core/PlanInput.js';
import { betterTarget, releasePath } from '../config/releases.js';
import { failurePlan, type FailurePlan } from './restoreOnFailurePlan.js';
import { needKey, parameterRequestFor, type ParameterRequest } from '../params/index.js';

export interface PlannedStep {
  /** The Umzug migration name, e.g. "openmetadata/server-migrate". */
  name: string;
  description: string;
}

/** The state a plan starts from; its fingerprint decides whether a later run is the same plan. */
export interface PlanState {
  openmetadata?: { version: string | null; changeLogRows: number };
  airflow?: { revision: string | null; shape: string; damage: string[] };
}

/** What `up` will do, exactly: `preflight --dry-run` prints it, `up` executes it, `rehearse` executes it on a copy. */
export interface RunPlan {
  /** A fingerprint of the starting state, the target and what will be done: the same plan gets the same id. */
  id: string;
  state: PlanState;
  /** Nothing to migrate or repair: the migrators still run (their no-op is the proof), nothing is backed up or raised. */
  nothingPending: boolean;
  /** One line: "OpenMetadata 1.10.2 → 1.11.0 (4 versions), Airflow 05234396c6fc: migrations pending". */
  summary: string;
  targetVersion: string | null;
  /**
   * The OpenMetadata releases the database goes through: ["1.11.4", "2.0.5"], or with a hop the migrator requires
   * first ["1.11.4", "the latest 2.0.x (2.0.5 or later) (with its own distribution)", "2.1.0"]; empty without OpenMetadata.
   */
  releasePath: string[];
  /** A withdrawn or harmful target, and the release to choose instead (src/config/releases.ts). */
  betterTarget: { release: string; why: string } | null;
  backups: Array<{ target: TargetRole; file: string }>;
  parameterChanges: PlannedChange[];
  steps: PlannedStep[];
  /** What a failed step triggers (restore-on-failure or not): plain data, src/plan/restoreOnFailurePlan.ts. */
  onFailure: FailurePlan;
}

/**
 * The one function that turns the gates' findings into the plan: a verified backup of each database and the parameter
 * changes the gates found needed (a `warn` finding with data.raise), unless nothing is pending; every step that
 * applies, in the one order migrations/index.ts gives. The parameter changes are previewed through the connection that
 * will make them, with the statements it will run; a value shared by two targets (one server's GLOBAL) once.
 */
export async function buildPlan(ctx: GateContext, findings: Finding[]): Promise<RunPlan> {
  const input = ctx.input;
  const idle = nothingPending(input);
  const at = new Date(ctx.now);
  const backups = idle ? [] : ctx.targets.map((t) => {
    const version = t.role === 'openmetadata' ? ctx.versions.openmetadata?.current : undefined;
    // --jobs N: a directory of files (runParallelBackup).
    return { target: t.role, file: join(ctx.config.backupDir, ctx.config.backupJobs > 1
      ? backupDirectoryName(t.spec.database, version, t.spec.engine, at)
      : backupFileName(t.spec.database, version, t.spec.engine, at, ctx.config.backupCompress)) };
  });
  const parameterChanges: PlannedChange[] = [];
  if (!idle && ctx.config.paramsMode === 'apply') {
    const seen = new Set<string>();
    for (const request of parameterRequests(ctx, findings)) {
      const executor = (await ctx.adminFor(request.target)) ?? request.target.dialect;
      const setting = await request.plan(executor);
      if (!setting) continue;
      const key = needKey(await executor.params.serverIdentity(), setting.parameter, setting.scope, setting.object)
        ?? `${request.target.role}|${setting.parameter}|${setting.scope}|${setting.object}`;
      if (seen.has(key)) continue;
      seen.add(key);
      parameterChanges.push({
        gate: request.gate, target: request.target.role, parameter: setting.parameter, scope: setting.scope, object: setting.object,
        description: `${setting.parameter} ${setting.previous ?? '(not set)'} → ${setting.next} at ${setting.scope} scope${setting.object ? ` (${setting.object})` : ''}`,
        sql: executor.params.applyStatements(setting),
        revertSql: executor.params.revertStatements(setting),
      });
    }
  }
  const steps = STEPS.filter((s) => s.appliesTo(input)).map((s) => ({ name: s.name, description: s.describe(input) }));
  const state = planState(input);
  const targetVersion = input.openmetadata?.expected ?? input.openmetadata?.target ?? null;
  const id = createHash('sha256').update(JSON.stringify({
    state, targetVersion, steps: steps.map((s) => s.name), idle,
    parameters: parameterChanges.map((c) => [c.target, c.parameter, c.scope, c.object]),
    databases: ctx.targets.map((t) => [t.role, t.spec.engine, t.spec.host, t.spec.port, t.spec.database]),
  })).digest('hex').slice(0, 16);
  const om = input.openmetadata;
  return {
    id, state, nothingPending: idle, summary: summarize(input), targetVersion,
    releasePath: om ? releasePath(input.versions.openmetadata?.current, om.expected ?? om.target) : [],
    betterTarget: betterTarget(om?.expected ?? om?.target) ?? null,
    backups, parameterChanges, steps, onFailure: failurePlan(ctx, idle),
  };
}

/** The requests behind the gates' `raise` findings; up re-plans each of them under the server's parameter mutex. */
export function parameterRequests(ctx: Pick<GateContext, 'targets' | 'config'>, findings: Finding[]): Array<ParameterRequest & { gate: string }> {
  const requests: Array<ParameterRequest & { gate: string }> = [];
  for (const f of findings) {
    if (f.severity !== 'warn' || f.data?.raise !== true || f.target === 'run') continue;
    const target = ctx.targets.find((t) => t.role === f.target);
    if (!target) continue;
    const parameter = f.gate === 'log-bin-trust' ? 'log_bin_trust_function_creators' : target.dialect.capabilities.sortMemoryParameter;
    requests.push({ ...parameterRequestFor(target, parameter, ctx.config), gate: f.gate });
  }
  return requests;
}

function planState(input: PlanInput): PlanState {
  const state: PlanState = {};
  const om = input.versions.openmetadata;
  if (om) state.openmetadata = { version: om.current ?? null, changeLogRows: om.rowCount };
  const af = input.airflow;
  if (af) state.airflow = { revision: af.state.facts.revision ?? null, shape: af.state.kind, damage: af.state.damage };
  return state;
}

function summarize(input: PlanInput): string {
  const parts: string[] = [];
  const om = input.openmetadata;
  if (om) {
    const from = input.versions.openmetadata?.current ?? 'fresh';
    const pending = om.pending === undefined ? 'pending unknown' : om.pending.length === 0 ? 'nothing pending' : `${om.pending.length} version(s) pending`;
    parts.push(`OpenMetadata ${from} → ${om.expected ?? om.target ?? 'the release installed'} (${pending})`);
  }
  const af = input.airflow;
  if (af) {
    const what = input.airflowNeedsRepair ? 'half-applied d59cbbef95eb to repair, then migrations'
      : af.pending === undefined ? 'pending unknown' : af.pending ? 'migrations pending' : 'nothing pending';
    parts.push(`Airflow ${input.versions.airflow?.revision ?? 'empty'} (${what})`);
  }
  return parts.join('; ');
}
