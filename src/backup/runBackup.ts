import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../openmetadata/versions.js';
import type { Dialect, DumpToolCheck, ServerInfo } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { alive } from '../process/runDir.js';
import { Redactor } from '../process/redact.js';
import { omMigrateVersion } from '../version.js';
import { BackupManifest, manifestPathFor, writeManifest } from './BackupManifest.js';
import { backupFileName, withSequence } from './backupFileName.js';
import { checkCompression } from './compression.js';
import { dumpThroughCodec, dumpToFile } from './dumpToDisk.js';
import { directoryFault, failed, serverLost } from './backupFailed.js';
import { listArchive } from './listArchive.js';
import { runParallelBackup } from './runParallelBackup.js';
import { syncPath } from './syncPath.js';

/** The database to back up: an open connection (its spec carries the credentials the dump tool gets). */
export interface BackupSource {
  role: TargetRole;
  dialect: Dialect;
  /** Already read by the caller (ConnectedTarget has it); read again when absent. */
  server?: ServerInfo;
}

export type BackupProgress =
  | { phase: 'started'; database: string; file: string; pid: number | undefined; command: string[]; estimatedBytes: number }
  | { phase: 'dumping'; database: string; bytesDumped: number; bytesWritten: number; elapsedMs: number; estimatedBytes: number }
  | { phase: 'verifying'; database: string; file: string }
  | { phase: 'pruned'; database: string; removed: string[] };

export interface BackupOptions {
  onProgress?: (event: BackupProgress) => void;
  /** The om-migrate run taking it (up), recorded so that only a resumed run of the same plan may take it over. */
  runId?: string;
  /** The watched tables' counts read right before the dump (up), recorded for a resumed run to compare (BackupManifest). */
  rowCounts?: Array<{ table: string; rows: number; exact: boolean }>;
  /** false: no 'dumping' events (the phases are still reported); for a caller that has nowhere to show them. */
  byteProgress?: boolean;
  /** Aborting kills the dump tool and removes the partial file. */
  signal?: AbortSignal;
  /** The clock, so the file name and manifest times agree. */
  now?: () => Date;
  /**
   * The name the plan gave the file (or --jobs directory), in config.backupDir: used instead of one made from this
   * call's clock, so that what up writes is what preflight --dry-run showed; a second one in the same second gets -2.
   */
  plannedName?: string;
}

const PROGRESS_EVERY_MS = 250;

/**
 * Dumps one database with the stock tool, straight to a 0600 file in the backup directory, hashing while it streams,
 * verifies it, and writes its manifest. Anything short of a verified backup removes the partial file and throws
 * BACKUP_FAILED with the tool's own message, so `up` stops before it changes anything. It removes no older backup:
 * --keep is its callers' (pruneBackups), who know when that is safe.
 */
export async function runBackup(source: BackupSource,
  config: Pick<RunConfig, 'backupDir' | 'backupCompress' | 'env'> & Partial<Pick<RunConfig, 'pgBinDir' | 'backupJobs'>>,
  options: BackupOptions = {}): Promise<BackupManifest> {
  const { dialect } = source;
  // The environment the dump tool is looked up in and runs with (PATH, TMPDIR...).
  const env = config.env;
  const now = options.now ?? (() => new Date());
  const database = dialect.spec.database;
  const server = source.server ?? await dialect.serverInfo();
  const tooling = dialect.dumpTool;

  const search = { pgBinDir: config.pgBinDir };
  const tool = usable(tooling.locate(server, env, search), database);
  const lister = tooling.format === 'custom' ? usable(tooling.locateRestore(server, env, search), database) : undefined;
  const compression = tooling.format === 'sql' ? config.backupCompress : 'none';
  checkCompression(compression, env);

  // What would stop the dump half-way (a routine another account defined, no EVENT), said with its GRANT before it starts.
  const blocks = (await dialect.dumpPrivilegeProblems(server)).filter((p) => p.severity === 'block');
  if (blocks.length > 0) {
    throw new OmMigrateError('BACKUP_FAILED', `${database}: the dump would stop: ${blocks.map((b) => b.summary).join('; ')}; nothing was changed`, {
      hint: blocks.map((b) => b.fix).join(' '), details: { database, problems: blocks },
    });
  }
  const changeLog = await dialect.openmetadata.changeLogVersions();
  const omVersion = currentOpenMetadataVersion(changeLog ?? []);
  const airflowRevision = await dialect.airflow.revision();
  const estimatedBytes = await dialect.introspect.databaseSizeBytes();

  await ensureDirectory(config.backupDir);
  await sweepPartialFiles(config.backupDir);
  const started = now();
  if ((config.backupJobs ?? 1) > 1) {
    // --jobs N: a directory of files from N dump sessions (runParallelBackup.ts); the single-file path below is unchanged.
    return runParallelBackup({ source, server, tool, lister, compression, changeLog, omVersion, airflowRevision, estimatedBytes, started, env, now,
      backupDir: config.backupDir, jobs: config.backupJobs!, options });
  }
  // Read and write: the dump tool writes through it, we read the file back through it to hash it. It carries a
  // partial name until it is verified, so an unverified dump (a killed run's) can never pass for a backup.
  const { file, partial, handle } = await createBackupFile(config.backupDir,
    (n) => options.plannedName ? withSequence(options.plannedName, n) : backupFileName(database, omVersion, dialect.engine, started, compression, n));

  const invocation = tooling.dumpInvocation(dialect.spec, tool, server);
  let removeFile = true;
  try {
    let lastReport = 0;
    const onProgress = options.byteProgress === false ? undefined : options.onProgress;
    // Nobody watching the bytes: no clock reads, no events, no size polling while the tool runs.
    const report = onProgress && ((bytesDumped: number, bytesWritten: number) => {
      const t = Date.now();
      if (t - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = t;
      onProgress({ phase: 'dumping', database, bytesDumped, bytesWritten, elapsedMs: t - started.getTime(), estimatedBytes });
    });
    const dumpStarted = (pid: number | undefined) =>
      options.onProgress?.({ phase: 'started', database, file, pid, command: invocation.display, estimatedBytes });
    const context = { file: partial, toolName: tool.name, redactor: new Redactor([dialect.spec.password]), dir: config.backupDir, env,
      signal: options.signal, database };
    const serverStarted = await dialect.serverStartedAt().catch(() => undefined);
    const dumped = await (compression === 'none'
      ? dumpToFile(invocation, handle, tooling.format, context, dumpStarted, report)
      : dumpThroughCodec(invocation, handle, compression, context, dumpStarted, report))
      .catch(async (error: unknown) => { throw await serverLost(error, dialect, serverStarted, database); });

    options.onProgress?.({ phase: 'verifying', database, file });
    if (!tooling.dumpCompleted(dumped.tail)) {
      throw failed(`${tool.name} exited successfully but the dump does not end with its completion line`,
        `The dump is incomplete; run ${tool.name} by hand to see why.`);
    }
    let entries: number | undefined;
    if (lister) {
      const listed = await listArchive(tooling.listInvocation(lister, partial)!, env);
      if (!listed.ok) throw failed(`the archive does not list: ${listed.message}`, `pg_dump produced an unreadable archive; run ${tool.name} by hand.`);
      entries = listed.entries;
    }
    // The one fsync of the dump, before it gets its real name and a manifest. The compressing path's write stream
    // has closed the handle by now.
    if (compression === 'none') await handle.sync();
    else await syncPath(partial);
    const manifest: BackupManifest = {
      manifestVersion: 1,
      createdBy: 'om-migrate',
      omMigrateVersion: omMigrateVersion(),
      role: source.role,
      engine: dialect.engine,
      server: { flavour: server.flavour, version: server.version, versionText: server.versionText, host: dialect.spec.host, port: dialect.spec.port },
      user: dialect.spec.user,
      database,
      openmetadataVersion: omVersion ?? null,
      changeLogRows: changeLog?.length ?? null,
      runId: options.runId ?? null,
      ...(options.rowCounts ? { rowCounts: options.rowCounts } : {}),
      airflowRevision: airflowRevision ?? null,
      format: tooling.format,
      compression,
      file: basename(file),
      bytes: dumped.bytes,
      dumpBytes: dumped.dumpBytes,
      sha256: dumped.sha256,
      startedAt: started.toISOString(),
      finishedAt: now().toISOString(),
      tool: { name: tool.name, path: tool.path as string, version: tool.version },
      command: invocation.display,
      verification: lister ? { method: 'pg_restore --list', entries } : { method: 'completion-line' },
    };
    // Verified and durable: only now does it get its real name, and then its manifest.
    try {
      await rename(partial, file);
      removeFile = false;
      await writeManifest(file, manifest);
      await syncPath(config.backupDir);
    } catch (error) {
      // The directory was removed, made read-only or filled under the dump: nothing here is a backup any more.
      removeFile = false;
      throw await directoryFault(error, config.backupDir, database, [partial, file, manifestPathFor(file)]);
    }
    return manifest;
  } finally {
    invocation.dispose();
    await handle.close().catch(() => undefined);
    if (removeFile) await unlink(partial).catch(() => undefined);
  }
}

function usable(check: DumpToolCheck, database: string): DumpToolCheck {
  if (check.problem || !check.path) {
    throw failed(`cannot back up ${database}: ${check.problem ?? `${check.name} not found`}`, check.fix ?? `Install ${check.name}.`);
  }
  return check;
}

/**
 * 0700 when we create it: a backup holds every row of the catalogue. An existing directory must be this user's (or
 * root's: a volume's mount point): whoever owns it could rename, remove or swap our files there, whatever its mode,
 * and a restore later reads them back as root. Anyone-may-write is the owner's choice only when the owner is us; a
 * group that may write is a deployment's choice (a Kubernetes volume's fsGroup, OpenShift's group 0).
 */
async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw failed(`cannot create the backup directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'Create it, or set --backup-dir (OM_MIGRATE_BACKUP_DIR) to a writable directory.', error);
  }
  const stat = await lstat(dir).catch(() => undefined);
  const uid = process.getuid?.();
  if (!stat || uid === undefined) return;
  if ((stat.mode & 0o002) !== 0 && stat.uid !== uid) {
    throw failed(`${dir} is writable by every user and owned by uid ${stat.uid}, not this user (uid ${uid}); nothing was written`,
      `Use a directory of your own (mkdir -m 0700), or set --backup-dir (OM_MIGRATE_BACKUP_DIR) to one.`);
  }
  if (stat.uid !== uid && stat.uid !== 0) {
    throw failed(`${dir} is owned by uid ${stat.uid}, not this user (uid ${uid}) or root: its owner could swap or remove the backups there; nothing was written`,
      `Use a directory of your own (mkdir -m 0700), or set --backup-dir (OM_MIGRATE_BACKUP_DIR) to one.`);
  }
}


const MAX_SAME_SECOND = 9;
const PARTIAL = /^(.*)\.([^.]+)\.(\d+)\.partial$/;

/** `<final name>.<host>.<pid>.partial`: whose it is, so that a later run on this host can tell a dead run's leftover. */
function partialName(file: string): string {
  return `${file}.${hostLabel()}.${process.pid}.partial`;
}

function hostLabel(): string {
  return hostname().replace(/[^A-Za-z0-9-]/g, '_');
}

/**
 * Creates the backup file 0600 and exclusively under its partial name (never following a planted link): a final name
 * already taken (a backup in the same second) gets the next sequence.
 */
async function createBackupFile(dir: string, name: (sequence: number) => string): Promise<{ file: string; partial: string; handle: FileHandle }> {
  for (let sequence = 1; ; sequence += 1) {
    const file = join(dir, name(sequence));
    const partial = partialName(file);
    try {
      if (await lstat(file).then(() => true, () => false)) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
      return { file, partial, handle: await open(partial, 'wx+', 0o600) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && sequence < MAX_SAME_SECOND) continue;
      throw failed(`cannot create ${partial}: ${code ?? (error as Error).message}`,
        code === 'EEXIST' ? `${MAX_SAME_SECOND} backups of this database were started within one second; wait a second and run again.`
          : 'Make --backup-dir (OM_MIGRATE_BACKUP_DIR) writable by this user, or point it at a directory that is.', error);
    }
  }
}

/** Removes the partial files that runs on this host left when they were killed (their process is gone). */
async function sweepPartialFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = PARTIAL.exec(name);
    if (!match || match[2] !== hostLabel() || Number(match[3]) === process.pid || alive(Number(match[3]))) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}
