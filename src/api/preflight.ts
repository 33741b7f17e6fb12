import { GATES } from '../../preflight/index.js';
import { describeSpec, TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { backupFileName } from '../backup/backupFileName.js';
import { join } from 'node:path';
import { isOmMigrateError } from '../errors.js';
import type { ConnectedTarget, Finding, GateContext, PlannedChange } from '../core/Gate.js';
import { plannedSteps, PlannedStep } from '../steps/plannedSteps.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';
import { openTargets, OpenedTargets } from '../targets/openTargets.js';

export interface TargetSummary {
  role: TargetRole;
  connection: string;
  reachable: boolean;
  flavour?: string;
  version?: string;
  managed?: string;
}

export interface RunPlan {
  backups: Array<{ target: TargetRole; file: string }>;
  parameterChanges: PlannedChange[];
  steps: PlannedStep[];
}

export interface PreflightReport {
  targets: TargetSummary[];
  findings: Finding[];
  /** The versions the gates judged, read once before them. */
  versions: VersionFacts;
  blocked: boolean;
  unreachable: boolean;
  plan?: RunPlan;
}

export interface PreflightOptions {
  dryRun?: boolean;
  command?: GateContext['command'];
  /** An already opened set of targets (up keeps its connections); opened and closed here otherwise. */
  opened?: OpenedTargets;
  heldLocks?: ReadonlySet<TargetRole>;
}

/** Every gate's read-only check over every configured database. Changes nothing on any server. */
export async function runPreflight(config: RunConfig, options: PreflightOptions = {}): Promise<PreflightReport> {
  const opened = options.opened ?? (await openTargets(config, 'preflight'));
  try {
    const findings: Finding[] = [];
    const versions = await readVersions(opened.targets).catch((error: unknown) => {
      findings.push(couldNotCheck('versions', error));
      return {};
    });
    const ctx: GateContext = {
      config,
      targets: opened.targets,
      unreachable: opened.failures,
      versions,
      command: options.command ?? 'preflight',
      now: Date.now(),
      heldLocks: options.heldLocks ?? new Set(),
      // Every gate but the connection gate (which reports why) sees an admin it cannot use as no admin at all.
      adminFor: (t) => opened.adminFor(t).catch(() => undefined),
    };
    for (const gate of GATES) {
      const gateCtx = gate.id === 'connection' ? { ...ctx, adminFor: (t: ConnectedTarget) => opened.adminFor(t) } : ctx;
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
    if (options.dryRun) report.plan = await buildPlan(ctx, findings, config.fixStaleRuns);
    return report;
  } finally {
    if (!options.opened) await opened.close();
  }
}

async function buildPlan(ctx: GateContext, findings: Finding[], fixStaleRuns: boolean): Promise<RunPlan> {
  const at = new Date(ctx.now);
  const backups = ctx.targets.map((t) => ({
    target: t.role,
    file: join(ctx.config.backupDir, backupFileName(t.spec.database,
      t.role === 'openmetadata' ? ctx.versions.openmetadata?.current : undefined, t.spec.engine, at)),
  }));
  const parameterChanges: PlannedChange[] = [];
  for (const gate of GATES) if (gate.plan) parameterChanges.push(...(await gate.plan(ctx)));
  const airflowNeedsRepair = findings.some((f) => f.gate === 'airflow-state' && f.data?.repairable === true);
  return { backups, parameterChanges, steps: plannedSteps({ config: ctx.config, versions: ctx.versions, airflowNeedsRepair, fixStaleRuns }) };
}

function couldNotCheck(gate: string, error: unknown): Finding {
  if (isOmMigrateError(error)) throw error;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    gate, target: 'run', severity: 'block', summary: `could not check: ${message}`,
    fix: 'Grant the migrating user read access (SELECT) on the OpenMetadata and Airflow tables, or run with --verbose.',
  };
}
