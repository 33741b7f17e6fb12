import { mkdir, open, statfs, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../config/versions.js';
import type { Dialect, DumpFormat, DumpToolCheck, ServerInfo, ToolInvocation } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { omMigrateVersion } from '../version.js';
import { BackupManifest, writeManifest } from './BackupManifest.js';
import { backupFileName } from './backupFileName.js';
import type { Compression } from './backupFileName.js';
import { checkCompression, CodecStage, compressor } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
import { hashFile, HashedFile, readTail } from './hashFile.js';
import { listArchive } from './listArchive.js';
import { pruneBackups } from './pruneBackups.js';
import { describeExit, startTool, succeeded } from './runTool.js';
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
  /** The environment the dump tool is looked up in and runs with (PATH, TMPDIR...); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Aborting kills the dump tool and removes the partial file. */
  signal?: AbortSignal;
  /** The clock, so the file name and manifest times agree. */
  now?: () => Date;
}

const PROGRESS_EVERY_MS = 250;
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

/**
 * Dumps one database with the stock tool, straight to a 0600 file in the backup directory, hashing while it streams,
 * verifies it, and writes its manifest. Anything short of a verified backup removes the partial file and throws
 * BACKUP_FAILED with the tool's own message, so `up` stops before it changes anything.
 */
export async function runBackup(source: BackupSource, config: Pick<RunConfig, 'backupDir' | 'backupCompress' | 'backupKeep'>,
  options: BackupOptions = {}): Promise<BackupManifest> {
  const { dialect } = source;
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const database = dialect.spec.database;
  const server = source.server ?? await dialect.serverInfo();
  const tooling = dialect.dumpTool;

  const tool = usable(tooling.locate(server, env), database);
  const lister = tooling.format === 'custom' ? usable(tooling.locateRestore(server, env), database) : undefined;
  const compression = tooling.format === 'sql' ? config.backupCompress : 'none';
  checkCompression(compression, env);

  const omVersion = currentOpenMetadataVersion((await dialect.openmetadata.changeLogVersions()) ?? []);
  const airflowRevision = await dialect.airflow.revision();
  const estimatedBytes = await dialect.introspect.databaseSizeBytes();

  await ensureDirectory(config.backupDir);
  const started = now();
  // Read and write: the dump tool writes through it, we read the file back through it to hash it.
  const { file, handle } = await createBackupFile(config.backupDir, (n) => backupFileName(database, omVersion, dialect.engine, started, compression, n));

  const invocation = tooling.dumpInvocation(dialect.spec, tool, server);
  let removeFile = true;
  try {
    let lastReport = 0;
    const report = (bytesDumped: number, bytesWritten: number) => {
      const t = Date.now();
      if (t - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = t;
      options.onProgress?.({ phase: 'dumping', database, bytesDumped, bytesWritten, elapsedMs: t - started.getTime(), estimatedBytes });
    };
    const dumpStarted = (pid: number | undefined) =>
      options.onProgress?.({ phase: 'started', database, file, pid, command: invocation.display, estimatedBytes });
    const context = { file, toolName: tool.name, password: dialect.spec.password, dir: config.backupDir, env, signal: options.signal, database };
    const dumped = compression === 'none'
      ? await dumpToFile(invocation, handle, tooling.format, context, dumpStarted, report)
      : await dumpThroughCodec(invocation, handle, compression, context, dumpStarted, report);

    options.onProgress?.({ phase: 'verifying', database, file });
    if (!tooling.dumpCompleted(dumped.tail)) {
      throw failed(`${tool.name} exited successfully but the dump does not end with its completion line`,
        `The dump is incomplete; run ${tool.name} by hand to see why.`);
    }
    let entries: number | undefined;
    if (lister) {
      const listed = await listArchive(tooling.listInvocation(lister, file)!, env);
      if (!listed.ok) throw failed(`the archive does not list: ${listed.message}`, `pg_dump produced an unreadable archive; run ${tool.name} by hand.`);
      entries = listed.entries;
    }
    // The compressing path's write stream has closed the handle by now.
    if (compression === 'none') await handle.sync();
    else await syncPath(file);
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
    await writeManifest(file, manifest);
    await syncPath(config.backupDir);
    removeFile = false;
    if (config.backupKeep !== undefined) {
      const removed = await pruneBackups(config.backupDir, manifest, config.backupKeep);
      options.onProgress?.({ phase: 'pruned', database, removed });
    }
    return manifest;
  } finally {
    invocation.dispose();
    await handle.close().catch(() => undefined);
    if (removeFile) await unlink(file).catch(() => undefined);
  }
}

interface DumpContext {
  file: string;
  toolName: string;
  password: string | undefined;
  dir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal | undefined;
  database: string;
}

interface Dumped {
  /** Size of the file, and its SHA-256. */
  bytes: number;
  sha256: string;
  /** Size of the dump before compression. */
  dumpBytes: number;
  /** The last bytes of the (uncompressed) dump. */
  tail: string;
}

/**
 * Uncompressed: the dump tool writes straight into the 0600 file (its standard output is our descriptor), exactly as
 * `tool > file` would, so Node neither copies nor buffers the dump. The SHA-256 is computed from the file on disk by
 * sequential reads of the page cache the tool just filled: alongside the tool while it writes, for a SQL dump (written
 * strictly in order), or once it has finished, for a custom-format archive (pg_dump seeks back into a seekable output
 * to fill in its table of contents, which also gives pg_restore the offsets it needs for a selective or parallel
 * restore). Either way the hash is of the bytes that are in the file, not of bytes that passed through a pipe.
 */
async function dumpToFile(invocation: ToolInvocation, handle: FileHandle, format: DumpFormat, context: DumpContext,
  dumpStarted: (pid: number | undefined) => void, report: (dumped: number, written: number) => void): Promise<Dumped> {
  const running = startTool(invocation, ['ignore', handle.fd, 'pipe'], context.env);
  dumpStarted(running.child.pid);
  const stop = () => running.child.kill('SIGTERM');
  context.signal?.addEventListener('abort', stop, { once: true });
  if (context.signal?.aborted) stop();
  let following: Promise<HashedFile> | undefined;
  if (format === 'sql') {
    following = hashFile(handle, { follow: running.exit, onBytes: (bytes) => report(bytes, bytes) });
    // A read error: stop the tool rather than let it fill the disk for nothing.
    following.catch(stop);
  }
  // Flush as it grows, so the final fsync has little left to write: the kernel would otherwise hold gigabytes dirty
  // (dirty_background_ratio) and the backup would wait for all of them at the end.
  let synced = 0;
  let syncing: Promise<void> | undefined;
  const progress = setInterval(() => {
    handle.stat().then((s) => {
      if (!following) report(s.size, s.size);
      if (!syncing && s.size - synced >= EARLY_SYNC_BYTES) {
        syncing = handle.datasync().then(() => { synced = s.size; }, () => undefined).finally(() => { syncing = undefined; });
      }
    }, () => undefined);
  }, PROGRESS_EVERY_MS);
  const exit = await running.exit;
  clearInterval(progress);
  await syncing;
  context.signal?.removeEventListener('abort', stop);
  const [hashed] = await Promise.allSettled([following ?? Promise.resolve(undefined)]);
  if (context.signal?.aborted) {
    throw new OmMigrateError('INTERRUPTED', `backup of ${context.database} interrupted; the partial file was removed`);
  }
  if (!succeeded(exit)) {
    const full = await diskFull(context.dir, exit.stderr);
    throw failed(`${describeExit(context.toolName, exit, context.password)}${full ? ` (ENOSPC: no space left on device in ${context.dir})` : ''}`,
      full ? 'Free space where --backup-dir points, or point it at a larger disk.' : `Fix what ${context.toolName} reports above; nothing in ${context.database} was changed.`);
  }
  if (hashed.status === 'rejected') {
    throw failed(`reading ${context.file} back failed: ${(hashed.reason as Error).message}`, 'Check the disk and the backup directory.', hashed.reason);
  }
  const result = hashed.value ?? await hashFile(handle, { onBytes: (bytes) => report(bytes, bytes) });
  const size = (await handle.stat()).size;
  if (result.bytes !== size) {
    throw failed(`${context.file} changed while it was being hashed (${result.bytes} bytes hashed, ${size} on disk)`, 'Make sure nothing else writes into --backup-dir.');
  }
  return { bytes: size, sha256: result.sha256, dumpBytes: size, tail: format === 'sql' ? await readTail(handle, size) : '' };
}

/** Compressed (MySQL family only): the dump passes through Node's zlib or a zstd process on its way to the file. */
async function dumpThroughCodec(invocation: ToolInvocation, handle: FileHandle, compression: Exclude<Compression, 'none'>, context: DumpContext,
  dumpStarted: (pid: number | undefined) => void, report: (dumped: number, written: number) => void): Promise<Dumped> {
  const running = startTool(invocation, ['ignore', 'pipe', 'pipe'], context.env);
  dumpStarted(running.child.pid);
  const codec: CodecStage = compressor(compression, context.env);
  const dumped = new DumpMeter({ hash: false, tail: true, onChunk: () => report(dumped.bytes, written.bytes) });
  const written = new DumpMeter({ hash: true, tail: false });
  // A bigger write buffer than the default 16 KB: fewer, larger writes of the compressed stream.
  // A bigger write buffer than the default 16 KB: fewer, larger writes. The stream closes the handle when it ends.
  const sink = handle.createWriteStream({ highWaterMark: 1024 * 1024 } as Parameters<FileHandle['createWriteStream']>[0]);
  const piping = pipeline([running.child.stdout!, dumped, codec.stream, written, sink], { signal: context.signal }).catch((error: unknown) => {
    // We stop reading: make sure the tool does not wait forever on a full pipe.
    running.child.kill('SIGTERM');
    codec.abort();
    throw error;
  });
  const [piped, exited, coded] = await Promise.allSettled([piping, running.exit, codec.done]);
  if (context.signal?.aborted) {
    throw new OmMigrateError('INTERRUPTED', `backup of ${context.database} interrupted; the partial file was removed`);
  }
  if (piped.status === 'rejected') {
    const error = piped.reason as NodeJS.ErrnoException;
    const toolSaid = exited.status === 'fulfilled' && !succeeded(exited.value) && exited.value.signal !== 'SIGTERM'
      ? `; ${describeExit(context.toolName, exited.value, context.password)}` : '';
    throw failed(`writing ${context.file} failed: ${error.message}${toolSaid}`,
      error.code === 'ENOSPC' ? 'Free space where --backup-dir points, or point it at a larger disk.' : 'Check the disk and the backup directory.', error);
  }
  const exit = exited.status === 'fulfilled' ? exited.value : undefined;
  if (!exit || !succeeded(exit)) {
    throw failed(`${exit ? describeExit(context.toolName, exit, context.password) : `${context.toolName} failed`}`,
      `Fix what ${context.toolName} reports above; nothing in ${context.database} was changed.`);
  }
  if (coded.status === 'rejected') throw failed(`compressing the dump failed: ${(coded.reason as Error).message}`, 'Use --compress none or gzip.');
  return { bytes: written.bytes, sha256: written.sha256(), dumpBytes: dumped.bytes, tail: dumped.tail() };
}

/** The tool's own words for a full disk ("errno 28", "No space left on device"), or the filesystem itself says so. */
async function diskFull(dir: string, stderr: string): Promise<boolean> {
  if (/errno:? 28\b|no space left/i.test(stderr)) return true;
  const fs = await statfs(dir).catch(() => undefined);
  return fs !== undefined && fs.bavail * fs.bsize < 64 * 1024;
}

function usable(check: DumpToolCheck, database: string): DumpToolCheck {
  if (check.problem || !check.path) {
    throw failed(`cannot back up ${database}: ${check.problem ?? `${check.name} not found`}`, check.fix ?? `Install ${check.name}.`);
  }
  return check;
}

/** 0700 when we create it: a backup holds every row of the catalogue. An existing directory is left as it is. */
async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw failed(`cannot create the backup directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'Create it, or set --backup-dir (OM_MIGRATE_BACKUP_DIR) to a writable directory.', error);
  }
}

function failed(message: string, hint: string, cause?: unknown): OmMigrateError {
  return new OmMigrateError('BACKUP_FAILED', `backup failed: ${message}`, { hint, cause });
}

const MAX_SAME_SECOND = 9;

/** Creates the backup file 0600 and exclusively: a name already taken (a backup in the same second) gets the next sequence. */
async function createBackupFile(dir: string, name: (sequence: number) => string): Promise<{ file: string; handle: FileHandle }> {
  for (let sequence = 1; ; sequence += 1) {
    const file = join(dir, name(sequence));
    try {
      return { file, handle: await open(file, 'wx+', 0o600) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && sequence < MAX_SAME_SECOND) continue;
      throw failed(`cannot create ${file}: ${code ?? (error as Error).message}`,
        code === 'EEXIST' ? `${MAX_SAME_SECOND} backups of this database were started within one second; wait a second and run again.`
          : 'Make --backup-dir (OM_MIGRATE_BACKUP_DIR) writable by this user, or point it at a directory that is.', error);
    }
  }
}
