import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { manifestPathFor, readManifest, type BackupManifest } from '../backup/BackupManifest.js';
import { pruneBackups, sparedBackups } from '../backup/pruneBackups.js';
import { restoreBackup } from '../backup/restoreBackup.js';
import { runBackup } from '../backup/runBackup.js';
import { verifyBackup } from '../backup/verifyBackup.js';
import { describeSpec, type ConnectionSpec, type TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../openmetadata/versions.js';
import type { ConnectedTarget } from '../core/Target.js';
import { connect } from '../dialects/connect.js';
import type { Dialect, LedgerStore } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { RunLock } from '../lock/runLock.js';
import type { RunPlan } from '../plan/buildPlan.js';
import { describeDifference, planDiff, type PlanDifference } from '../plan/planDiff.js';
import type { Interruption } from '../process/Interruption.js';
import { fileProblem } from '../process/pathTrust.js';
import { rehearsalCopyName, rehearsalCopyPrefix, rehearsalCopyRun, withDatabase } from '../rehearsal/copySpec.js';
import { ledgerTargetOf, REHEARSAL_STEP, type RehearsalRecord } from '../rehearsal/rehearsalRecord.js';
import { adminSpecFor, openTargets } from '../targets/openTargets.js';
import { executePlan, asTyped } from '../engine/executePlan.js';
import { preflightWithInput } from '../engine/preflightWithInput.js';
import { writeRehearsalReport } from './rehearseReport.js';
import { checkArguments } from './up.js';
import { withRunLock } from '../engine/withRunLock.js';
import type { RowCountReport, StepSummary, UpEvent, UpSummary } from '../engine/upTypes.js';

export interface RehearseOptions {
  /** A backup's manifest to rehearse from (its database's role); the other databases use their newest or a new one. */
  manifest?: string;
  /** Keep the scratch copies instead of dropping them. */
  keepCopy?: boolean;
  onEvent?: (event: UpEvent) => void;
}

export interface RehearsalCopy {
  role: TargetRole;
  database: string;
  /** The scratch database: omm_rehearsal_<source hash>_<run>_<database> (omm_rehearsal_kept_… with --keep-copy). */
  copy: string;
  server: string;
  /** The backup it was restored from, and how that backup came to be chosen. */
  manifest: string;
  backupSource: 'given' | 'newest' | 'taken-now';
  /** How long the backup took when it was made (from its manifest), and the restore into the copy. */
  backupMs: number;
  restoreMs: number;
  bytes: number;
  dropped: boolean;
}

export interface RehearsalSummary {
  runId: string;
  outcome: 'passed' | 'failed' | 'interrupted' | 'nothing-pending';
  /** One line: what was rehearsed and how it went. */
  message: string;
  /** The real databases' plan (its id is what up and preflight look the rehearsal up by). */
  plan: RunPlan;
  /**
   * Where the plan run on the copies differed from the real databases' plan, step by step and parameter by parameter
   * (the databases' names and the backups aside): empty when the rehearsal ran the very plan up would run; undefined
   * when no plan was made on the copies.
   */
  planDiff: PlanDifference[] | undefined;
  copies: RehearsalCopy[];
  /** Scratch databases left by earlier, killed rehearsals of these databases, removed before this one. */
  removedLeftovers: string[];
  /** The plan's run on the copies, when it finished. */
  run: UpSummary | undefined;
  /** The steps as far as they got (also on failure). */
  steps: StepSummary[];
  rowCounts: RowCountReport | undefined;
  /** The failure, with the migrator's output as far as the error carries it. */
  failure: { code: string; message: string; hint: string | undefined; details: Record<string, unknown> | undefined } | undefined;
  timings: { backupMs: number; restoreMs: number; runMs: number; totalMs: number };
  /** The Markdown report written beside the backups. */
  report: string | undefined;
}

interface CopyContext {
  target: ConnectedTarget;
  /** Makes and drops the copy: --rehearse-admin-url, else the admin URL, else the application user itself. */
  maker: Dialect;
  makerOwned: boolean;
  /** The connection the copy is used through (migrators included). */
  spec: ConnectionSpec;
  account: string;
  name: string;
  created: boolean;
  info?: RehearsalCopy;
}

/**
 * `om-migrate rehearse`: under the run lock of the real databases, restores a verified backup of each into a scratch
 * database named omm_rehearsal_<source hash>_<run>_<database> (same server, or --rehearse-admin-url's), runs the very plan `up` would
 * run there — executePlan, the function `up` runs, with the copies' connections, parameter bumps put back — and drops
 * the copies (unless --keep-copy, whose copies are named omm_rehearsal_kept_… and never removed by a later run) on
 * success, failure, SIGINT and SIGTERM. Copies of these very databases left by a killed rehearsal are dropped first. The outcome is recorded in the real database's ledger under the real plan's id, for up and preflight.
 */
export async function runRehearse(config: RunConfig, options: RehearseOptions = {}): Promise<RehearsalSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const started = Date.now();
  checkArguments(config);
  return withRunLock(config, {
    purpose: 'rehearse', lockCommand: 'rehearse', phase: 'taking the run lock of the real databases',
    emitPhase: (text) => emit({ type: 'phase', text }),
  }, ({ opened, lock, interruption }) => lockedRehearse(config, opened.targets, (t) => opened.adminFor(t), lock, interruption, emit, options, started));
}

async function lockedRehearse(config: RunConfig, targets: ConnectedTarget[], adminFor: (t: ConnectedTarget) => Promise<Dialect | undefined>,
  lock: RunLock, interruption: Interruption, emit: (e: UpEvent) => void, options: RehearseOptions, started: number): Promise<RehearsalSummary> {
  emit({ type: 'phase', text: 'planning on the real databases (read-only)' });
  const { report } = await preflightWithInput(config, {
    command: 'up', opened: { targets, failures: [], adminFor, close: async () => undefined },
    heldLocks: new Set(targets.map((t) => t.role)), previousHolder: (role) => lock.previousHolder(role), checkRehearsal: false,
  });
  const blocks = report.findings.filter((f) => f.severity === 'block');
  if (blocks.length > 0 || !report.plan) {
    throw new OmMigrateError('BLOCKED', `${blocks.length} preflight check(s) block the upgrade, so there is nothing to rehearse: ${blocks[0]?.summary ?? 'no plan could be made'}; nothing was changed`,
      { hint: blocks[0]?.fix ?? 'Run om-migrate preflight for the whole report.', details: { blocks } });
  }
  const plan = report.plan;
  const base = { runId: lock.runId, plan, planDiff: undefined as PlanDifference[] | undefined, removedLeftovers: [] as string[], steps: [] as StepSummary[],
    run: undefined, rowCounts: undefined, failure: undefined };
  if (plan.nothingPending) {
    return { ...base, outcome: 'nothing-pending', message: `nothing pending: ${plan.summary}; nothing to rehearse`, copies: [],
      timings: { backupMs: 0, restoreMs: 0, runMs: 0, totalMs: Date.now() - started }, report: undefined };
  }

  const realLedger = ledgerTargetOf(targets)!.dialect.ledger;
  await realLedger.ensureTable();
  await realLedger.abandon(lock.runId, 'interrupted: its run ended before it finished (killed or crashed)');
  const recordRow = await realLedger.start({ runId: lock.runId, planId: plan.id, step: REHEARSAL_STEP, targetVersion: plan.targetVersion ?? '-',
    stateBefore: JSON.stringify(plan.state) });

  const contexts: CopyContext[] = [];
  let summary: RehearsalSummary | undefined;
  let runMs = 0;
  let runStart = 0;
  try {
    for (const target of targets) contexts.push(await prepareCopy(config, target, adminFor, lock.runId, options.keepCopy ?? false));
    // A copy's name carries the hash of its exact source (server and name), and a rehearsal holds its source's run lock
    // as long as its copy lives: holding that lock now, every copy under the source's prefix is a dead run's. Another
    // database's copies (db_A's, when this is db_a) and kept copies (omm_rehearsal_kept_…) never match the prefix.
    const ourRun = rehearsalCopyRun(contexts[0]?.name ?? '');
    for (const c of contexts) {
      for (const name of await c.maker.scratch.list(rehearsalCopyPrefix(c.target.spec))) {
        if (rehearsalCopyRun(name) === undefined || rehearsalCopyRun(name) === ourRun) continue;
        emit({ type: 'phase', text: `removing ${name}, left by a rehearsal that was killed` });
        await c.maker.scratch.drop(name);
        base.removedLeftovers.push(name);
      }
    }
    for (const c of contexts) {
      const access = await c.maker.scratch.canCreate(c.spec.user === c.maker.spec.user ? undefined : c.account);
      if (!access.ok) {
        throw new OmMigrateError('BLOCKED', `cannot make the rehearsal copy of ${c.target.spec.database}: ${access.summary}; nothing was changed`, {
          hint: 'Give --admin-url (or --rehearse-admin-url) an account that may CREATE and DROP databases and grant them (MySQL: CREATE, DROP, GRANT OPTION on *.*; PostgreSQL: CREATEDB and membership of the application role, or a superuser).',
        });
      }
    }
    for (const c of contexts) {
      interruption.signal.throwIfAborted();
      const chosen = await chooseBackup(config, c.target, options.manifest, emit, interruption.signal, lock.runId, realLedger);
      emit({ type: 'phase', text: `restoring ${chosen.manifest.database} into ${c.name}` });
      await c.maker.scratch.create(c.name, c.account, c.maker.spec.host === c.target.spec.host && c.maker.spec.port === c.target.spec.port ? c.target.spec.database : undefined);
      c.created = true;
      const restoreStart = Date.now();
      // --jobs restores the copy in parallel too (a failure there only costs the scratch copy); a single SQL dump, which
      // its client reads in one session, is restored as it is.
      await restoreBackup(chosen.path, { openmetadata: c.spec, airflow: c.spec, pgBinDir: config.pgBinDir, env: config.env },
        { into: c.name, jobs: chosen.manifest.format === 'sql' ? 1 : config.backupJobs });
      c.info = {
        role: c.target.role, database: c.target.spec.database, copy: c.name, server: describeSpec(c.spec), manifest: chosen.path,
        backupSource: chosen.source, backupMs: Date.parse(chosen.manifest.finishedAt) - Date.parse(chosen.manifest.startedAt),
        restoreMs: Date.now() - restoreStart, bytes: chosen.manifest.bytes, dropped: false,
      };
    }
    const copyConfig: RunConfig = {
      ...config,
      command: 'rehearse',
      openmetadata: contexts.find((c) => c.target.role === 'openmetadata')?.spec,
      airflow: contexts.find((c) => c.target.role === 'airflow')?.spec,
      // A copy on another server (--rehearse-admin-url) is changed through that server's account.
      ...(config.rehearseAdmin ? { admin: config.rehearseAdmin, airflowAdmin: config.rehearseAdmin } : {}),
    };
    interruption.signal.throwIfAborted();
    const copyOpened = await openTargets(copyConfig, 'rehearse-copy');
    const progress: { steps: StepSummary[] } = { steps: [] };
    runStart = Date.now();
    try {
      if (copyOpened.failures.length > 0) throw copyOpened.failures[0].error;
      emit({ type: 'phase', text: `running the plan on the copies: ${contexts.map((c) => c.name).join(', ')}` });
      const run = await executePlan({ config: copyConfig, opened: copyOpened, lock, interruption, emit, takeBackups: false, checkRehearsal: false,
        onPlanned: (copyPlan) => {
          base.planDiff = planDiff(plan, copyPlan, { databases: false });
          if (base.planDiff.length > 0) emit({ type: 'phase', text: `warning: the copies' plan differs from the real one: ${base.planDiff.map(describeDifference).join('; ')}` });
        } });
      runMs = Date.now() - runStart;
      summary = finish(base, contexts, started, runMs, run.rowCounts.lost.length > 0 ? 'failed' : 'passed', run, run.steps, run.rowCounts, undefined);
    } catch (error) {
      runMs = Date.now() - runStart;
      const typed = asTyped(error);
      if (!isOmMigrateError(typed)) throw typed;
      const got = (typed.details?.progress ?? {}) as { steps?: StepSummary[]; rowCounts?: RowCountReport };
      progress.steps = got.steps ?? [];
      summary = finish(base, contexts, started, runMs, interruption.signal.aborted ? 'interrupted' : 'failed', undefined, progress.steps, got.rowCounts,
        { code: typed.code, message: typed.message, hint: typed.hint, details: typed.details });
    } finally {
      await copyOpened.close();
    }
  } catch (error) {
    // Before the plan ran (a backup, the restore, privileges): the rehearsal did not happen; say so in the ledger.
    await realLedger.finish(recordRow, interruption.signal.aborted ? 'interrupted' : 'failed', { outputTail: firstLine(error) }).catch(() => undefined);
    throw error;
  } finally {
    await dropCopies(contexts, options.keepCopy ?? false, emit);
    for (const c of contexts) if (c.makerOwned) await c.maker.close().catch(() => undefined);
  }
  for (const c of contexts) if (c.info) c.info.dropped = !(options.keepCopy ?? false) && !c.created;
  summary.timings.totalMs = Date.now() - started;
  summary.report = await writeRehearsalReport(config.backupDir, summary).catch(() => undefined);
  const record: RehearsalRecord = {
    outcome: summary.outcome === 'nothing-pending' ? 'passed' : summary.outcome, totalMs: summary.timings.totalMs,
    restoreMs: summary.timings.restoreMs, runMs: summary.timings.runMs,
    steps: summary.steps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs })),
    report: summary.report ?? null, copy: summary.copies.map((c) => c.copy),
  };
  await realLedger.finish(recordRow, summary.outcome === 'passed' ? 'done' : summary.outcome === 'interrupted' ? 'interrupted' : 'failed', {
    stateAfter: JSON.stringify(record), backupId: summary.report ?? null,
    outputTail: summary.failure ? summary.failure.message : summary.rowCounts?.lost.length ? `rows lost: ${summary.rowCounts.lost.map((c) => c.table).join(', ')}` : null,
  });
  return summary;
}

function finish(base: Pick<RehearsalSummary, 'runId' | 'plan' | 'planDiff' | 'removedLeftovers'>, contexts: CopyContext[], started: number, runMs: number,
  outcome: RehearsalSummary['outcome'], run: UpSummary | undefined, steps: StepSummary[], rowCounts: RowCountReport | undefined,
  failure: RehearsalSummary['failure']): RehearsalSummary {
  const copies = contexts.flatMap((c) => (c.info ? [c.info] : []));
  const backupMs = copies.reduce((n, c) => n + c.backupMs, 0);
  const restoreMs = copies.reduce((n, c) => n + c.restoreMs, 0);
  const how = outcome === 'passed' ? 'passed' : outcome === 'interrupted' ? 'interrupted' : rowCounts?.lost.length && !failure ? 'failed: rows were lost' : `failed: ${failure?.message ?? 'see the report'}`;
  return {
    ...base, outcome, copies, run, steps, rowCounts, failure,
    message: `rehearsed ${base.plan.summary} on ${copies.map((c) => c.copy).join(', ')}: ${how} (plan ${base.plan.id})`,
    timings: { backupMs, restoreMs, runMs, totalMs: Date.now() - started }, report: undefined,
  };
}

/** The connection that makes the copy, the copy's own connection (the application user's, on the same server), and its name. */
async function prepareCopy(config: RunConfig, target: ConnectedTarget, adminFor: (t: ConnectedTarget) => Promise<Dialect | undefined>, runId: string,
  kept: boolean): Promise<CopyContext> {
  const name = rehearsalCopyName(target.spec, runId, { kept });
  const account = await target.dialect.scratch.account();
  if (config.rehearseAdmin) {
    const spec = { ...config.rehearseAdmin, database: config.rehearseAdmin.database || (target.spec.engine === 'postgres' ? 'postgres' : '') };
    if (spec.engine !== target.spec.engine) {
      throw new OmMigrateError('USAGE', `--rehearse-admin-url is a ${spec.engine} URL, but the ${target.role} database is ${target.spec.engine}`,
        { hint: 'Give a server of the same engine for the rehearsal copy.' });
    }
    const maker = await connect(spec, { purpose: 'rehearse-admin', timeoutMs: config.connectTimeoutMs, room: 'admin' });
    try {
      const user = await copyAccount(config, target, maker, spec);
      const copySpec = withDatabase({ ...target.spec, host: spec.host, port: spec.port, user: user.user, password: user.password, params: spec.params }, name);
      if (target.spec.url) {
        const url = new URL(target.spec.url);
        url.hostname = spec.host;
        url.port = String(spec.port);
        url.username = encodeURIComponent(user.user);
        url.password = user.password ? encodeURIComponent(user.password) : '';
        copySpec.url = withDatabase({ ...copySpec, url: url.toString() }, name).url;
      }
      return { target, maker, makerOwned: true, spec: copySpec, account: user.account, name, created: false };
    } catch (error) {
      await maker.close().catch(() => undefined);
      throw error;
    }
  }
  const admin = adminSpecFor(config, target) ? await adminFor(target) : undefined;
  return { target, maker: admin ?? target.dialect, makerOwned: false, spec: withDatabase(target.spec, name), account, name, created: false };
}

/**
 * The account the copy is restored and migrated through on the --rehearse-admin-url server. Never a superuser on the
 * application's behalf: the dump's functions and the application's triggers would run with its privileges (a trigger
 * that makes the application's role a superuser, and a rehearsal that "passed"). A superuser there only makes the
 * copy; the application's own user, which must exist on that server with the same password, owns and migrates it.
 * An account that is no superuser is the operator's own rehearsal account and is used as it is.
 */
async function copyAccount(config: RunConfig, target: ConnectedTarget, maker: Dialect, spec: ConnectionSpec): Promise<{ user: string; password: string | undefined; account: string }> {
  const privileges = await maker.privileges();
  if (!privileges.superuser && !privileges.super) return { user: spec.user, password: spec.password, account: await maker.scratch.account() };
  const app: ConnectionSpec = { ...target.spec, host: spec.host, port: spec.port, params: spec.params, database: target.spec.engine === 'postgres' ? 'postgres' : '' };
  let probe: Dialect;
  try {
    probe = await connect(app, { purpose: 'rehearse-check', timeoutMs: config.connectTimeoutMs });
  } catch (error) {
    throw new OmMigrateError('BLOCKED', `${spec.source} is a superuser account on ${describeSpec(spec)}: the copy of ${target.spec.database} is restored `
      + `and migrated as the application's own user ${target.spec.user} there, which cannot log in (${firstLine(error)}); nothing was changed`, {
      hint: `Create ${target.spec.user} on that server with the same password, or give ${spec.source} an account that is not a superuser `
        + '(MySQL: CREATE, DROP and GRANT OPTION on *.*; PostgreSQL: CREATEDB). om-migrate never runs the application\'s code as a superuser.',
      cause: error,
    });
  }
  try {
    return { user: target.spec.user, password: target.spec.password, account: await probe.scratch.account() };
  } finally {
    await probe.close();
  }
}

async function dropCopies(contexts: CopyContext[], keep: boolean, emit: (e: UpEvent) => void): Promise<void> {
  for (const c of contexts) {
    if (!c.created) continue;
    if (keep) {
      emit({ type: 'phase', text: `keeping the copy ${c.name} (--keep-copy): drop it when done` });
      continue;
    }
    emit({ type: 'phase', text: `dropping the copy ${c.name}` });
    try {
      await c.maker.scratch.drop(c.name);
      c.created = false;
    } catch (error) {
      emit({ type: 'phase', text: `warning: could not drop ${c.name}: ${firstLine(error)}; the next rehearsal removes it` });
    }
  }
}

/**
 * The backup to rehearse from: --manifest for its role; else the newest verified om-migrate backup of this very
 * database (same server, engine, name) that still shows its present state (OpenMetadata version, Airflow revision,
 * SERVER_CHANGE_LOG rows) — an older state would rehearse another plan; else one taken now.
 */
async function chooseBackup(config: RunConfig, target: ConnectedTarget, given: string | undefined, emit: (e: UpEvent) => void,
  signal: AbortSignal, runId: string, ledger: LedgerStore): Promise<{ path: string; manifest: BackupManifest; source: RehearsalCopy['backupSource'] }> {
  if (given) {
    const manifest = await readManifest(resolve(given));
    if (manifest.role === target.role) {
      await mustVerify(resolve(given), config);
      return { path: resolve(given), manifest, source: 'given' };
    }
  }
  const live = await liveState(target);
  const candidates: Array<{ path: string; manifest: BackupManifest }> = [];
  for (const file of await readdir(config.backupDir).catch(() => [] as string[])) {
    if (!file.endsWith('.manifest.json')) continue;
    const path = join(config.backupDir, file);
    // A manifest another user wrote (the directory may be ours and open to all) is not one of ours to restore.
    if (fileProblem(path)) continue;
    const manifest = await readManifest(path).catch(() => undefined);
    if (!manifest || manifest.createdBy !== 'om-migrate' || manifest.role !== target.role || manifest.engine !== target.spec.engine
      || manifest.database !== target.spec.database || manifest.server.host !== target.spec.host || manifest.server.port !== target.spec.port) continue;
    if ((manifest.openmetadataVersion ?? null) !== live.openmetadata || (manifest.airflowRevision ?? null) !== live.airflow) continue;
    if (manifest.changeLogRows !== undefined && manifest.changeLogRows !== null && live.changeLogRows !== null && manifest.changeLogRows !== live.changeLogRows) continue;
    candidates.push({ path, manifest });
  }
  candidates.sort((a, b) => Date.parse(b.manifest.finishedAt) - Date.parse(a.manifest.finishedAt));
  for (const c of candidates) {
    if ((await verifyBackup(c.path, { pgBinDir: config.pgBinDir, env: config.env })).ok) {
      emit({ type: 'phase', text: `rehearsing ${target.spec.database} from its newest backup ${c.path}` });
      return { ...c, source: 'newest' };
    }
  }
  emit({ type: 'phase', text: `no backup of ${target.spec.database} in its present state: backing it up now` });
  const manifest = await runBackup({ role: target.role, dialect: target.dialect, server: target.server }, config,
    { signal, runId, onProgress: (progress) => emit({ type: 'backup', progress }) });
  // --keep as `backup` applies it: never an unfinished up run's backup.
  if (config.backupKeep !== undefined) await pruneBackups(config.backupDir, manifest, config.backupKeep, await sparedBackups(ledger));
  return { path: manifestPathFor(resolve(config.backupDir, manifest.file)), manifest, source: 'taken-now' };
}

async function mustVerify(path: string, config: Pick<RunConfig, 'pgBinDir' | 'env'>): Promise<void> {
  const verification = await verifyBackup(path, { pgBinDir: config.pgBinDir, env: config.env });
  if (!verification.ok) {
    throw new OmMigrateError('RESTORE_REFUSED', `the backup ${path} does not verify: ${verification.problems.join('; ')}`,
      { hint: 'Give an intact backup and its manifest (--manifest), or leave --manifest out to use the newest or take one now.' });
  }
}

async function liveState(target: ConnectedTarget): Promise<{ openmetadata: string | null; airflow: string | null; changeLogRows: number | null }> {
  const versions = target.role === 'openmetadata' ? await target.dialect.openmetadata.changeLogVersions() : undefined;
  return {
    openmetadata: target.role === 'openmetadata' ? currentOpenMetadataVersion(versions ?? []) ?? null : null,
    airflow: target.role === 'airflow' ? (await target.dialect.airflow.revision()) ?? null : null,
    changeLogRows: versions ? versions.length : null,
  };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
