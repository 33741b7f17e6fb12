import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { currentOpenMetadataVersion } from '../config/versions.js';
import type { Dialect, DumpToolCheck, ServerInfo } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { omMigrateVersion } from '../version.js';
import { BackupManifest, writeManifest } from './BackupManifest.js';
import { backupFileName } from './backupFileName.js';
import { checkCompression, CodecStage, compressor, identityStage } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
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
  const fileName = backupFileName(database, omVersion, dialect.engine, started, compression);
  const file = join(config.backupDir, fileName);
  const handle = await open(file, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
    throw failed(`cannot create ${file}: ${error.code ?? error.message}`,
      'Make --backup-dir (OM_MIGRATE_BACKUP_DIR) writable by this user, or point it at a directory that is.', error);
  });

  const invocation = tooling.dumpInvocation(dialect.spec, tool, server);
  let removeFile = true;
  try {
    const running = startTool(invocation, ['ignore', 'pipe', 'pipe'], env);
    options.onProgress?.({ phase: 'started', database, file, pid: running.child.pid, command: invocation.display, estimatedBytes });

    const codec: CodecStage = compression === 'none' ? identityStage() : compressor(compression, env);
    let lastReport = 0;
    const report = () => {
      const t = Date.now();
      if (t - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = t;
      options.onProgress?.({
        phase: 'dumping', database, bytesDumped: dumped.bytes, bytesWritten: written.bytes, elapsedMs: t - started.getTime(), estimatedBytes,
      });
    };
    // Uncompressed, one meter both hashes and keeps the tail; compressed, the tail is read before and the hash after.
    const dumped = new DumpMeter({ hash: compression === 'none', tail: true, onChunk: report });
    const written = compression === 'none' ? dumped : new DumpMeter({ hash: true, tail: false });
    const stages = compression === 'none' ? [dumped] : [dumped, codec.stream, written];
    const sink = handle.createWriteStream();

    const piping = pipeline([running.child.stdout!, ...stages, sink], { signal: options.signal }).catch((error: unknown) => {
      // We stop reading: make sure the tool does not wait forever on a full pipe.
      running.child.kill('SIGTERM');
      codec.abort();
      throw error;
    });
    const [piped, exited, coded] = await Promise.allSettled([piping, running.exit, codec.done]);

    if (options.signal?.aborted) {
      throw new OmMigrateError('INTERRUPTED', `backup of ${database} interrupted; the partial file was removed`);
    }
    if (piped.status === 'rejected') {
      const error = piped.reason as NodeJS.ErrnoException;
      const toolSaid = exited.status === 'fulfilled' && !succeeded(exited.value) && exited.value.signal !== 'SIGTERM'
        ? `; ${describeExit(tool.name, exited.value, dialect.spec.password)}` : '';
      throw failed(`writing ${file} failed: ${error.message}${toolSaid}`,
        error.code === 'ENOSPC' ? 'Free space where --backup-dir points, or point it at a larger disk.' : 'Check the disk and the backup directory.', error);
    }
    const exit = exited.status === 'fulfilled' ? exited.value : undefined;
    if (!exit || !succeeded(exit)) {
      throw failed(`${exit ? describeExit(tool.name, exit, dialect.spec.password) : `${tool.name} failed`}`,
        `Fix what ${tool.name} reports above; nothing in ${database} was changed.`);
    }
    if (coded.status === 'rejected') throw failed(`compressing the dump failed: ${(coded.reason as Error).message}`, 'Use --compress none or gzip.');

    options.onProgress?.({ phase: 'verifying', database, file });
    if (!tooling.dumpCompleted(dumped.tail())) {
      throw failed(`${tool.name} exited successfully but the dump does not end with its completion line`,
        `The dump is incomplete; run ${tool.name} by hand to see why.`);
    }
    let entries: number | undefined;
    if (lister) {
      const listed = await listArchive(tooling.listInvocation(lister, file)!, env);
      if (!listed.ok) throw failed(`the archive does not list: ${listed.message}`, `pg_dump produced an unreadable archive; run ${tool.name} by hand.`);
      entries = listed.entries;
    }
    await syncPath(file);
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
      file: fileName,
      bytes: written.bytes,
      dumpBytes: dumped.bytes,
      sha256: written.sha256(),
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
    if (removeFile) {
      await handle.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
    }
  }
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
