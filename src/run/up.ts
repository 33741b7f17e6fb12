import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Umzug } from 'umzug';
import { STEPS } from '../../migrations/index.js';
import type { BackupManifest } from '../backup/BackupManifest.js';
import { manifestPathFor } from '../backup/BackupManifest.js';
import { runBackup, type BackupProgress } from '../backup/runBackup.js';
import { verifyBackup } from '../backup/verifyBackup.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { JournalEntry } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { ConnectedTarget, Finding } from './Gate.js';
import { ledgerKey, LedgerStorage } from './LedgerStorage.js';
import {
  applyParameterChanges, createParameterRun, revertLeftovers, sortMemoryRequest, trustFunctionCreatorsRequest,
  type ParameterRequest, type RevertReport,
} from './parameterChanges.js';
import { runPreflight } from './preflight.js';
import { readVersions, type VersionFacts } from './readVersions.js';
import { acquireRunLock } from './runLock.js';
import type { MigratorOptions, StepContext } from './Step.js';
import { openTargets, type OpenedTargets } from './targets.js';
import { withInterrupt } from './withInterrupt.js';
import { withParameterGuard } from './withParameterGuard.js';

export interface UpOptions {
  migrators: MigratorOptions;
  fixStaleRuns: boolean;
  /** What the CLI shows while it runs; the library itself prints nothing. */
  onEvent?: (event: UpEvent) => void;
}

export type UpEvent =
  | { type: 'phase'; text: string }
  | { type: 'backup'; progress: BackupProgress }
  | { type: 'step-started'; name: string }
  | { type: 'step-output'; name: string; line: string }
  | { type: 'step-finished'; name: string; status: StepSummary['status']; detail: string };

export interface StepSummary {
  name: string;
  status: 'done' | 'failed' | 'already-done';
  durationMs: number;
  detail: string;
}

export interface ParameterSummary {
  target: TargetRole;
  parameter: string;
  scope: string;
  previous: string | null;
  raisedTo: string;
  restored: 'reverted' | 'deferred' | 'not-reverted';
}

export interface UpSummary {
  runId: string;
  targetVersion: string | null;
  before: VersionFacts;
  after: VersionFacts;
  warnings: Finding[];
  leftoversReverted: number;
  backups: Array<{ target: TargetRole; file: string; manifest: string; bytes: number; sha256: string; reused: boolean }>;
  parameters: ParameterSummary[];
  steps: StepSummary[];
}

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
      command: 'up', opened, heldLocks: new Set(targets.map((t) => t.role)), dryRun: true, fixStaleRuns: options.fixStaleRuns,
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
  const before = await readVersions(targets);
  const key = ledgerKey(config.targetVersion);
  const ledgerTarget = targets.find((t) => t.role === 'openmetadata') ?? targets[0];
  const parameterRun = createParameterRun({ runId, targets, adminFor: (t) => opened.adminFor(t), command: 'up' });

  emit({ type: 'phase', text: 'putting back parameters left changed by earlier runs' });
  const leftovers = await revertLeftovers(parameterRun);
  // The gates saw the values an interrupted run left raised (log_bin_trust_function_creators already 1, say) and
  // asked for nothing; now that those are back, what this run must raise is only known by checking again.
  if (leftovers.reverted.length > 0) report = await preflight();

  await ledgerTarget.dialect.ledger.ensureTable();
  // Holding the lock, no other run is alive: an attempt still marked running was cut off and will never finish.
  await ledgerTarget.dialect.ledger.abandon(runId, 'interrupted: its run ended before the step finished (killed or crashed)');
  // Ctrl-C or SIGTERM (docker stop) during a dump stops the tool and removes its partial file; nothing else changed yet.
  const backups = await withInterrupt((signal) => backupAll(config, targets, ledgerTarget, key, runId, emit, signal));

  const requests = parameterRequests(config, targets, report.findings);
  const applied: JournalEntry[] = [];
  let revert: RevertReport | undefined;
  const steps: StepSummary[] = [];
  await withParameterGuard(parameterRun, async (signal) => {
    if (requests.length > 0) emit({ type: 'phase', text: 'raising server parameters for the migration' });
    applied.push(...(await applyParameterChanges(parameterRun, requests)));
    await runSteps(config, options, targets, ledgerTarget, key, runId, report.plan?.steps.map((s) => s.name) ?? [],
      backups[0]?.manifest ?? null, steps, signal, emit);
  }, { onReverted: (r) => { revert = r; }, onSignal: (s) => emit({ type: 'phase', text: `${s}: stopping the step, then putting parameters back` }) });

  emit({ type: 'phase', text: 'post-checks' });
  const after = await readVersions(targets);
  postCheck(config, after);
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

/**
 * One verified backup per database before anything changes. An interrupted `up` for the same target version reuses
 * the backup its ledger recorded when that file still verifies, rather than dumping again.
 */
async function backupAll(config: RunConfig, targets: ConnectedTarget[], ledgerTarget: ConnectedTarget, key: string,
  runId: string, emit: (e: UpEvent) => void, signal: AbortSignal): Promise<UpSummary['backups']> {
  const done = await ledgerTarget.dialect.ledger.done(key);
  const result: UpSummary['backups'] = [];
  for (const target of targets) {
    const step = `backup/${target.role}`;
    const earlier = done.find((e) => e.step === step)?.backupId;
    if (earlier && existsSync(earlier)) {
      const check = await verifyBackup(earlier);
      if (check.ok) {
        emit({ type: 'phase', text: `reusing the verified backup of ${target.spec.database} from the interrupted run` });
        result.push(summarizeBackup(target.role, earlier, check.manifest, true));
        continue;
      }
    }
    emit({ type: 'phase', text: `backing up ${target.spec.database}` });
    const id = await ledgerTarget.dialect.ledger.start({ step, targetVersion: key, runId });
    try {
      const manifest = await runBackup({ role: target.role, dialect: target.dialect, server: target.server }, config,
        { onProgress: (progress) => emit({ type: 'backup', progress }), signal });
      const manifestPath = manifestPathFor(`${config.backupDir}/${manifest.file}`);
      await ledgerTarget.dialect.ledger.finish(id, 'done', null, manifestPath);
      result.push(summarizeBackup(target.role, manifestPath, manifest, false));
    } catch (error) {
      await ledgerTarget.dialect.ledger.finish(id, 'failed', isOmMigrateError(error) ? error.message : String(error));
      throw error;
    }
  }
  return result;
}

function summarizeBackup(target: TargetRole, manifestPath: string, manifest: BackupManifest, reused: boolean): UpSummary['backups'][number] {
  return { target, file: manifestPath.replace(/\.manifest\.json$/, ''), manifest: manifestPath, bytes: manifest.bytes, sha256: manifest.sha256, reused };
}

async function runSteps(config: RunConfig, options: UpOptions, targets: ConnectedTarget[], ledgerTarget: ConnectedTarget,
  key: string, runId: string, planned: string[], backupId: string | null, steps: StepSummary[], signal: AbortSignal,
  emit: (e: UpEvent) => void): Promise<void> {
  const ledger = ledgerTarget.dialect.ledger;
  const alreadyDone = new Set((await ledger.done(key)).map((e) => e.step));
  // Every step an earlier run of this target finished, in step order, also those no longer planned because their
  // work shows now (the OpenMetadata database already at the target, Airflow no longer half-applied).
  for (const name of Object.keys(STEPS)) {
    if (alreadyDone.has(name)) steps.push({ name, status: 'already-done', durationMs: 0, detail: 'finished by an earlier, interrupted run' });
  }
  const umzug = new Umzug<StepContext>({
    migrations: planned.map((name) => ({
      name,
      up: async ({ context }) => {
        const step = STEPS[name];
        if (!step) throw new OmMigrateError('INTERNAL', `no step called ${name}`);
        emit({ type: 'step-started', name });
        const started = Date.now();
        const id = await ledger.start({ step: name, targetVersion: key, runId, backupId });
        const lines: string[] = [];
        try {
          const outcome = await step.run({ ...context, log: (line) => { lines.push(line); emit({ type: 'step-output', name, line }); } });
          await ledger.finish(id, 'done', outcome.outputTail ?? (lines.slice(-40).join('\n') || null));
          steps.push({ name, status: 'done', durationMs: Date.now() - started, detail: outcome.detail });
          emit({ type: 'step-finished', name, status: 'done', detail: outcome.detail });
        } catch (error) {
          const tail = (isOmMigrateError(error) && typeof error.details?.outputTail === 'string') ? error.details.outputTail : lines.slice(-40).join('\n');
          await ledger.finish(id, 'failed', tail || null).catch(() => undefined);
          const detail = isOmMigrateError(error) ? error.message : String(error);
          steps.push({ name, status: 'failed', durationMs: Date.now() - started, detail });
          emit({ type: 'step-finished', name, status: 'failed', detail });
          throw error;
        }
      },
    })),
    context: {
      config, runId, migrators: options.migrators, signal,
      target: (role) => targets.find((t) => t.role === role),
      log: () => undefined,
    },
    storage: new LedgerStorage(ledger, key),
    logger: undefined,
  });
  try {
    await umzug.up();
  } catch (error) {
    // Umzug wraps a step's error; the step's own typed error is what the operator needs to see.
    const cause = (error as { cause?: unknown }).cause;
    if (signal.aborted) throw signal.reason;
    throw isOmMigrateError(cause) ? cause : cause ?? error;
  }
}

function postCheck(config: RunConfig, after: VersionFacts): void {
  const om = after.openmetadata;
  if (om && config.targetVersion && om.current !== config.targetVersion) {
    throw new OmMigrateError('STEP_FAILED', `after the steps the OpenMetadata database is at ${om.current ?? 'no version'}, not ${config.targetVersion}`, {
      hint: 'Check the OpenMetadata migrator\'s output (om-migrate status shows the ledger).',
    });
  }
}
