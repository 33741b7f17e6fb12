import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { STEPS } from '../../migrations/index.js';
import { backupDirectoryName, backupFileName, type Compression } from '../backup/backupFileName.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import { hasEffect, type Finding, type GateContext, type PlannedChange } from '../core/Gate.js';
import { nothingPending, type PlanInput } from '../core/PlanInput.js';
import { betterTarget, releasePath } from '../openmetadata/releases.js';
import { failurePlan, type FailurePlan } from './restoreOnFailurePlan.js';
import { needKey, parameterRequestFor, type ParameterRequest } from '../params/index.js';

export interface PlannedStep {
  /** The Umzug migration name, e.g. "openmetadata/server-migrate". */
  name: string;
  description: string;
  /** How long it may run before it is stopped: --step-timeout, else the step's own default. */
  timeoutMs: number;
}

/** A verified backup the plan takes: where, under which name (decided once, by the plan's clock). */
export interface PlannedBackup {
  target: TargetRole;
  /** The absolute path of the file (or, with --jobs N, the directory): the backup directory and the name. */
  file: string;
  /** --compress (MySQL dumps) and --jobs, which the name's extension already tells. */
  compression: Compression;
  jobs: number;
}

/** The database a plan is for; no credential. */
export interface PlanDatabase {
  role: TargetRole;
  engine: string;
  host: string;
  port: number;
  database: string;
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
  /**
   * The id's facts and the parameter values read (before and after): a saved plan runs only while the live databases
   * still give the same fingerprint.
   */
  fingerprint: string;
  databases: PlanDatabase[];
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
  /** A withdrawn or harmful target, and the release to choose instead (src/openmetadata/releases.ts). */
  betterTarget: { release: string; why: string } | null;
  backups: PlannedBackup[];
  parameterChanges: PlannedChange[];
  steps: PlannedStep[];
  /** What a failed step triggers (restore-on-failure or not): plain data, src/plan/restoreOnFailurePlan.ts. */
  onFailure: FailurePlan;
}

/**
 * The one function that turns the gates' findings into the plan: a verified backup of each database and the parameter
 * changes the gates found needed (a `warn` finding with a raise-parameter effect), unless nothing is pending; every step that
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
      : backupFileName(t.spec.database, version, t.spec.engine, at, ctx.config.backupCompress)),
    compression: ctx.config.backupCompress, jobs: ctx.config.backupJobs };
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
        previous: setting.previous, next: setting.next, atLeastBytes: request.atLeastBytes,
        description: `${setting.parameter} ${setting.previous ?? '(not set)'} → ${setting.next} at ${setting.scope} scope${setting.object ? ` (${setting.object})` : ''}`,
        sql: executor.params.applyStatements(setting),
        revertSql: executor.params.revertStatements(setting),
      });
    }
  }
  const steps = STEPS.filter((s) => s.appliesTo(input))
    .map((s) => ({ name: s.name, description: s.describe(input), timeoutMs: ctx.config.stepTimeoutMs ?? s.defaultTimeoutMs }));
  const state = planState(input);
  const targetVersion = input.openmetadata?.expected ?? input.openmetadata?.target ?? null;
  const databases = ctx.targets.map((t) => ({ role: t.role, engine: t.spec.engine, host: t.spec.host, port: t.spec.port, database: t.spec.database }));
  const identity = planIdentity({ state, targetVersion, steps, nothingPending: idle, parameterChanges, databases });
  const om = input.openmetadata;
  return {
    ...identity, databases, state, nothingPending: idle, summary: summarize(input), targetVersion,
    releasePath: om ? releasePath(input.versions.openmetadata?.current, om.expected ?? om.target) : [],
    betterTarget: betterTarget(om?.expected ?? om?.target) ?? null,
    backups, parameterChanges, steps, onFailure: failurePlan(ctx, idle),
  };
}

/** The requests behind the gates' raise-parameter contributions, with the byte count a sort-memory raise aims at. */
function parameterRequests(ctx: Pick<GateContext, 'targets' | 'config'>, findings: Finding[]): Array<ParameterRequest & { gate: string; atLeastBytes: number | null }> {
  const requests: Array<ParameterRequest & { gate: string; atLeastBytes: number | null }> = [];
  for (const f of findings) {
    if (f.severity !== 'warn' || !hasEffect(f, 'raise-parameter') || f.target === 'run') continue;
    const target = ctx.targets.find((t) => t.role === f.target);
    if (!target) continue;
    const sortMemory = target.dialect.capabilities.sortMemoryParameter;
    const parameter = f.effect.parameter === 'sort-memory' ? sortMemory : f.effect.parameter;
    const atLeastBytes = parameter === 'sort_buffer_size' ? ctx.config.sortBufferBytes : parameter === 'work_mem' ? ctx.config.workMemBytes : null;
    requests.push({ ...parameterRequestFor(target, parameter, ctx.config), gate: f.gate, atLeastBytes });
  }
  return requests;
}

type PlanFacts = Pick<RunPlan, 'state' | 'targetVersion' | 'steps' | 'nothingPending' | 'parameterChanges' | 'databases'>;

/**
 * The plan's id and fingerprint, from its facts alone: computed again from a saved plan's own content, so that a
 * saved plan whose facts were edited (its digest recomputed or not) never matches the live databases' fingerprint.
 */
export function planIdentity(plan: PlanFacts): { id: string; fingerprint: string } {
  const facts = {
    state: plan.state, targetVersion: plan.targetVersion, steps: plan.steps.map((s) => s.name), idle: plan.nothingPending,
    parameters: plan.parameterChanges.map((c) => [c.target, c.parameter, c.scope, c.object]),
    databases: plan.databases.map((d) => [d.role, d.engine, d.host, d.port, d.database]),
  };
  return {
    id: sha256(JSON.stringify(facts)).slice(0, 16),
    fingerprint: sha256(JSON.stringify({ ...facts, values: plan.parameterChanges.map((c) => [c.previous, c.next, c.atLeastBytes]) })),
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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
