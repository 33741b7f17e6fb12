import { GATES } from '../../preflight/index.js';
import { describeSpec, TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { ConnectedTarget, Finding, GateContext } from '../core/Gate.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { RunHolderRow } from '../dialects/types.js';
import { isOmMigrateError } from '../errors.js';
import { runLockName } from '../lock/lockName.js';
import { GATE_TOOLS } from './gateTools.js';
import { buildPlan, type RunPlan } from '../plan/buildPlan.js';
import { readPlanInput } from '../plan/readPlanInput.js';
import { rehearsalFinding } from '../rehearsal/rehearsalRecord.js';
import { openTargets, type OpenedTargets } from '../targets/openTargets.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';

export interface TargetSummary {
  role: TargetRole;
  connection: string;
  reachable: boolean;
  flavour?: string;
  version?: string;
  managed?: string;
}

export interface PreflightReport {
  targets: TargetSummary[];
  findings: Finding[];
  /** The versions the gates judged, read once before them. */
  versions: VersionFacts;
  blocked: boolean;
  unreachable: boolean;
  plan?: RunPlan;
  /** preflight --dry-run --out FILE: where the plan was saved for up --plan. */
  planFile?: string;
}

export interface PreflightOptions {
  dryRun?: boolean;
  command?: GateContext['command'];
  /** An already opened set of targets (up keeps its connections); opened and closed here otherwise. */
  opened?: OpenedTargets;
  heldLocks?: ReadonlySet<TargetRole>;
  /** The lock holder rows as they were before this run took the locks (up). */
  previousHolder?(role: TargetRole): RunHolderRow | undefined;
  /** Judge the last rehearsal of the plan (default true; false on the rehearsal's own copy). */
  checkRehearsal?: boolean;
}

/** The report, and what it was judged on: up executes `plan` with `input`. */
export interface PreflightResult {
  report: PreflightReport;
  input: PlanInput | undefined;
}

/**
 * Every gate's read-only check over every configured database, and the plan built from their findings, keeping what the
 * gates judged: the plan input that up executes the plan with. Changes nothing on any server.
 */
export async function preflightWithInput(config: RunConfig, options: PreflightOptions = {}): Promise<PreflightResult> {
  const opened = options.opened ?? (await openTargets(config, 'preflight'));
  try {
    const findings: Finding[] = [];
    const versions = await readVersions(opened.targets).catch((error: unknown) => {
      findings.push(couldNotCheck('versions', error));
      return {} as VersionFacts;
    });
    const input = await readPlanInput(config, opened.targets, versions).catch((error: unknown) => {
      findings.push(couldNotCheck('plan', error));
      return undefined;
    });
    const holders = new Map<TargetRole, RunHolderRow | undefined>();
    for (const t of opened.targets) {
      holders.set(t.role, options.previousHolder ? options.previousHolder(t.role)
        : await t.dialect.runs.rowOf(runLockName(t.spec)).catch(() => undefined));
    }
    const ctx: GateContext = {
      config,
      targets: opened.targets,
      unreachable: opened.failures,
      versions,
      input: input ?? { versions, fixStaleRuns: config.fixStaleRuns, airflowNeedsRepair: false },
      command: options.command ?? 'preflight',
      now: Date.now(),
      heldLocks: options.heldLocks ?? new Set(),
      previousHolder: (role) => holders.get(role),
      // Every gate but the connection gate (which reports why) sees an admin it cannot use as no admin at all.
      adminFor: (t) => opened.adminFor(t).catch(() => undefined),
      tools: GATE_TOOLS,
    };
    for (const gate of GATES) {
      const gateCtx = gate.reportsAdminFailures ? { ...ctx, adminFor: (t: ConnectedTarget) => opened.adminFor(t) } : ctx;
      // One gate that cannot read what it needs (a missing SELECT grant, say) must not hide the others' findings.
      findings.push(...(await gate.check(gateCtx).catch((error: unknown) => [couldNotCheck(gate.id, error)])));
    }
    const report: PreflightReport = {
      targets: [
        ...opened.targets.map((t) => ({ role: t.role, connection: describeSpec(t.spec), reachable: true, flavour: t.server.flavour,
          version: t.server.version, ...(t.server.managed ? { managed: t.server.managed } : {}) })),
        ...opened.failures.map((f) => ({ role: f.role, connection: describeSpec(f.spec), reachable: false })),
      ],
      findings,
      versions,
      blocked: findings.some((f) => f.severity === 'block'),
      unreachable: opened.failures.length > 0,
    };
    const command = options.command ?? 'preflight';
    const judgeRehearsal = options.checkRehearsal !== false && (command === 'up' || command === 'preflight');
    if ((options.dryRun || command === 'up' || judgeRehearsal) && input && !report.unreachable) {
      const planned = options.dryRun || command === 'up';
      // Plain preflight builds the plan only to look its rehearsal up: a plan it cannot build is not its finding to make.
      const plan = planned ? await buildPlan(ctx, findings) : await buildPlan(ctx, findings).catch(() => undefined);
      if (planned) report.plan = plan;
      const rehearsal = judgeRehearsal && plan
        ? await rehearsalFinding(opened.targets, plan, config.requireRehearsal, ctx.now).catch((error: unknown) => ({ ...couldNotCheck('rehearsal', error), severity: config.requireRehearsal ? 'block' as const : 'warn' as const, effect: { kind: 'rehearsal' as const } }))
        : undefined;
      if (rehearsal) {
        if (plan && typeof rehearsal.data?.restoreMs === 'number') plan.onFailure.lastRehearsalRestoreMs = rehearsal.data.restoreMs;
        findings.push(rehearsal);
        report.blocked = findings.some((f) => f.severity === 'block');
      }
    }
    return { report, input };
  } finally {
    if (!options.opened) await opened.close();
  }
}

function couldNotCheck(gate: string, error: unknown): Finding {
  if (isOmMigrateError(error)) throw error;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    gate, target: 'run', severity: 'block', summary: `could not check: ${message}`,
    fix: 'Grant the migrating user read access (SELECT) on the OpenMetadata and Airflow tables, or run with --verbose.',
  };
}
