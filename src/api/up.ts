import { randomUUID } from 'node:crypto';
import type { RunConfig } from '../config/resolveConfig.js';
import type { JournalEntry } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { ConnectedTarget, Finding } from '../core/Gate.js';
import { ledgerKey } from '../steps/LedgerStorage.js';
import {
  applyParameterChanges, createParameterRun, revertLeftovers, sortMemoryRequest, trustFunctionCreatorsRequest,
  type ParameterRequest, type RevertReport,
} from '../params/index.js';
import { runPreflight } from './preflight.js';
import { readVersions, type VersionFacts } from '../targets/readVersions.js';
import { acquireRunLock } from '../lock/runLock.js';
import { openTargets, type OpenedTargets } from '../targets/openTargets.js';
import { withInterrupt } from '../process/withInterrupt.js';
import { withParameterGuard } from '../params/withParameterGuard.js';

import { runSteps } from '../steps/runSteps.js';
import { backupAll } from './upBackups.js';
import type { StepSummary, UpEvent, UpOptions, UpSummary } from './upTypes.js';

export type { ParameterSummary, StepSummary, UpEvent, UpOptions, UpSummary } from './upTypes.js';

/**
 * `om-migrate up`, in this order and never another: lock → every preflight check (a block stops here with nothing
 * changed) → earlier runs' unreverted parameters put back → backup of each database → parameter bumps → the steps
 * (Umzug, over the ledger) → parameters reverted → post-checks → summary.
 */
export async function runUp(config: RunConfig, options: UpOptions): Promise<UpSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const opened = await openTargets(config, 'up');
  try {
    if (opened.failures.length > 0) throw opened.failures[0].error;
    const targets = opened.targets;
    emit({ type: 'phase', text: 'taking the run lock' });
    const lock = await acquireRunLock(targets, config.lockTimeoutMs, { runId: randomUUID(), command: 'up' });
    try {
      return await lockedUp(config, options, opened, lock.runId, emit);
    } finally {
      await lock.release();
    }
  } finally {
    await opened.close();
  }
}

async function lockedUp(config: RunConfig, options: UpOptions, opened: OpenedTargets, runId: string,
  emit: (e: UpEvent) => void): Promise<UpSummary> {
  const { targets } = opened;
  emit({ type: 'phase', text: 'running the preflight checks' });
  const preflight = async () => {
    const r = await runPreflight(config, {
      command: 'up', opened, heldLocks: new Set(targets.map((t) => t.role)), dryRun: true,
    });
    const blocks = r.findings.filter((f) => f.severity === 'block');
    if (blocks.length > 0) {
      throw new OmMigrateError('BLOCKED', `${blocks.length} preflight check(s) block the upgrade: ${blocks[0].summary}`, {
        hint: blocks[0].fix ?? 'Run om-migrate preflight for the whole report.',
        details: { blocks },
      });
    }
    return r;
  };
  let report = await preflight();
  const before = report.versions;
  const key = ledgerKey(config.targetVersion);
  const ledgerTarget = targets.find((t) => t.role === 'openmetadata') ?? targets[0];
  const parameterRun = createParameterRun({ runId, targets, adminFor: (t) => opened.adminFor(t), command: 'up', journalDir: config.journalDir });

  emit({ type: 'phase', text: 'putting back parameters left changed by earlier runs' });
  const leftovers = await revertLeftovers(parameterRun);
  // The gates saw the values an interrupted run left raised (log_bin_trust_function_creators already 1, say) and
  // asked for nothing; now that those are back, what this run must raise is only known by checking again.
  if (leftovers.reverted.length > 0) report = await preflight();

  let backups: UpSummary['backups'] = [];
  const steps: StepSummary[] = [];
  const applied: JournalEntry[] = [];
  let revert: RevertReport | undefined;
  let after: VersionFacts;
  try {
    await ledgerTarget.dialect.ledger.ensureTable();
    // Holding the lock, no other run is alive: an attempt still marked running was cut off and will never finish.
    await ledgerTarget.dialect.ledger.abandon(runId, 'interrupted: its run ended before the step finished (killed or crashed)');
    // Ctrl-C or SIGTERM (docker stop) during a dump stops the tool and removes its partial file; nothing else changed yet.
    backups = await withInterrupt((signal) => backupAll(config, targets, ledgerTarget, key, runId, emit, signal));

    const requests = parameterRequests(config, targets, report.findings);
    await withParameterGuard(parameterRun, async (signal) => {
      if (requests.length > 0) emit({ type: 'phase', text: 'raising server parameters for the migration' });
      applied.push(...(await applyParameterChanges(parameterRun, requests)));
      await runSteps(config, config, targets, ledgerTarget, key, runId, report.plan?.steps.map((s) => s.name) ?? [],
        backups[0]?.manifest ?? null, steps, signal, emit);
    }, { onReverted: (r) => { revert = r; }, onSignal: (s) => emit({ type: 'phase', text: `${s}: stopping the step, then putting parameters back` }) });

    emit({ type: 'phase', text: 'post-checks' });
    after = await readVersions(targets);
    postCheck(config, after);
  } catch (error) {
    // With --json the failure is all an automation sees: say how far this run got, and where its backups are.
    throw withProgress(error, { runId, backups: backups.map((b) => b.file), steps });
  }
  return {
    runId,
    targetVersion: config.targetVersion ?? null,
    before,
    after,
    warnings: report.findings.filter((f) => f.severity === 'warn'),
    leftoversReverted: leftovers.reverted.length,
    backups,
    parameters: applied.map((entry) => ({
      target: targets.find((t) => t.spec.database === entry.database)?.role ?? targets[0].role,
      parameter: entry.parameter,
      scope: entry.scope,
      previous: entry.previous,
      raisedTo: entry.next,
      restored: revert?.reverted.some((r) => r.id === entry.id) ? 'reverted'
        : revert?.deferred.some((r) => r.id === entry.id) ? 'deferred' : 'not-reverted',
    })),
    steps,
  };
}

/** The parameters the gates found in need of raising (sort memory for every target: the journal keeps shared needs). */
function parameterRequests(config: RunConfig, targets: ConnectedTarget[], findings: Finding[]): ParameterRequest[] {
  if (config.paramsMode === 'skip') return [];
  const requests = targets.map((t) => sortMemoryRequest(t, config));
  for (const f of findings) {
    if (f.gate === 'log-bin-trust' && f.severity === 'warn') {
      const target = targets.find((t) => t.role === f.target);
      if (target) requests.push(trustFunctionCreatorsRequest(target));
    }
  }
  return requests;
}

function postCheck(config: RunConfig, after: VersionFacts): void {
  const om = after.openmetadata;
  if (om && config.targetVersion && om.current !== config.targetVersion) {
    throw new OmMigrateError('STEP_FAILED', `after the steps the OpenMetadata database is at ${om.current ?? 'no version'}, not ${config.targetVersion}`, {
      hint: 'Check the OpenMetadata migrator\'s output (om-migrate status shows the ledger).',
    });
  }
}

function withProgress(error: unknown, progress: { runId: string; backups: string[]; steps: StepSummary[] }): unknown {
  if (!isOmMigrateError(error)) return error;
  return new OmMigrateError(error.code, error.message, {
    hint: error.hint, cause: error.cause ?? error, details: { ...error.details, progress },
  });
}
