import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { connect } from '../dialects/connect.js';
import type { DumpToolCheck, ServerInfo, TableToDump, ToolInvocation } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { Redactor } from '../process/redact.js';
import { alive } from '../process/runDir.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import { omMigrateVersion } from '../version.js';
import { BackupFileEntry, BackupManifest, fileSetDigest, writeManifest } from './BackupManifest.js';
import { failed } from './backupFailed.js';
import { backupDirectoryName, withSequence, type Compression } from './backupFileName.js';
import { dumpThroughCodec, dumpToFile, type DumpContext, type Dumped } from './dumpToDisk.js';
import { hashFile, READ_BYTES } from './hashFile.js';
import { listArchive } from './listArchive.js';
import type { BackupOptions, BackupSource } from './runBackup.js';
import { syncPath } from './syncPath.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';

const PROGRESS_EVERY_MS = 250;
const MAX_SAME_SECOND = 9;
/** How long the parallel MySQL dump waits for a write transaction to let go of a table before it gives up. */
const LOCK_WAIT_SECONDS = 30;
const PARTIAL = /^(.*)\.([^.]+)\.(\d+)\.partial$/;

/** What runBackup has read and checked before the dump, handed over unchanged. */
export interface PreparedBackup {
  source: BackupSource;
  server: ServerInfo;
  tool: DumpToolCheck;
  /** pg_restore, to list the finished archive; undefined for the MySQL family. */
  lister: DumpToolCheck | undefined;
  compression: Compression;
  changeLog: string[] | undefined;
  omVersion: string | undefined;
  airflowRevision: string | null | undefined;
  estimatedBytes: number;
  started: Date;
  env: Environment;
  now: () => Date;
  backupDir: string;
  jobs: number;
  options: BackupOptions;
}

interface DumpedSet {
  files: BackupFileEntry[];
  dumpBytes: number;
  command: string[];
  verification: BackupManifest['verification'];
}

/**
 * `--jobs N`: the database dumped by N sessions at once into a directory (0700, under a partial name until verified),
 * every file hashed, made durable and listed in a version 2 manifest. PostgreSQL: pg_dump --format=directory --jobs N.
 * MySQL family: the stock dump tool once per share of the tables, all started while one more session holds every table
 * against writes, so that their snapshots are one (docs/parallel-backup.md). Anything short of a verified backup
 * removes the directory and throws, as the single-file backup does.
 */
export async function runParallelBackup(p: PreparedBackup): Promise<BackupManifest> {
  const { dialect } = p.source;
  const database = dialect.spec.database;
  await sweepPartialDirectories(p.backupDir);
  const { dir, partial } = await createBackupDirectory(p.backupDir,
    (n) => p.options.plannedName ? withSequence(p.options.plannedName, n) : backupDirectoryName(database, p.omVersion, dialect.engine, p.started, n));
  let keep = false;
  try {
    const dumped = dialect.dumpTool.parallel.format === 'directory'
      ? await dumpDirectory(p, dir, partial)
      : await dumpSqlFiles(p, dir, partial);
    // The directory's own entry (the file names) durable before it gets its real name.
    await syncPath(partial);
    const manifest: BackupManifest = {
      manifestVersion: 2,
      createdBy: 'om-migrate',
      omMigrateVersion: omMigrateVersion(),
      role: p.source.role,
      engine: dialect.engine,
      server: { flavour: p.server.flavour, version: p.server.version, versionText: p.server.versionText, host: dialect.spec.host, port: dialect.spec.port },
      user: dialect.spec.user,
      database,
      openmetadataVersion: p.omVersion ?? null,
      changeLogRows: p.changeLog?.length ?? null,
      runId: p.options.runId ?? null,
      ...(p.options.rowCounts ? { rowCounts: p.options.rowCounts } : {}),
      airflowRevision: p.airflowRevision ?? null,
      format: dialect.dumpTool.parallel.format,
      compression: p.compression,
      file: basename(dir),
      bytes: dumped.files.reduce((sum, f) => sum + f.bytes, 0),
      dumpBytes: dumped.dumpBytes,
      sha256: fileSetDigest(dumped.files),
      files: dumped.files,
      jobs: p.jobs,
      startedAt: p.started.toISOString(),
      finishedAt: p.now().toISOString(),
      tool: { name: p.tool.name, path: p.tool.path as string, version: p.tool.version },
      command: dumped.command,
      verification: dumped.verification,
    };
    await rename(partial, dir);
    keep = true;
    await writeManifest(dir, manifest);
    await syncPath(p.backupDir);
    return manifest;
  } finally {
    if (!keep) await rm(partial, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** PostgreSQL: pg_dump -Fd -j N writes the directory; its files are hashed, made durable and listed once it is done. */
async function dumpDirectory(p: PreparedBackup, dir: string, partial: string): Promise<DumpedSet> {
  const { dialect } = p.source;
  const parallel = dialect.dumpTool.parallel;
  if (parallel.format !== 'directory') throw new Error('not a directory dump');
  const invocation = parallel.dumpInvocation(dialect.spec, p.tool, p.server, partial, p.jobs);
  const report = reporter(p);
  let exit;
  try {
    const running = spawnChild({
      argv: invocation.argv, env: childEnvironment(p.env, 'tool-basics', invocation.env), stdout: 'ignore', stderr: 'lines',
      redactor: new Redactor([dialect.spec.password]), signal: p.options.signal,
    });
    p.options.onProgress?.({ phase: 'started', database: dialect.spec.database, file: dir, pid: running.pgid, command: invocation.display, estimatedBytes: p.estimatedBytes });
    const polling = report && setInterval(() => {
      directoryBytes(partial).then((bytes) => report(bytes, bytes), () => undefined);
    }, PROGRESS_EVERY_MS);
    exit = await running.exit;
    if (polling) clearInterval(polling);
  } finally {
    invocation.dispose();
  }
  interrupted(p);
  if (!succeeded(exit)) {
    const full = /errno:? 28\b|no space left/i.test(exit.tail);
    throw failed(`${describeExit(p.tool.name, exit)}${full ? ` (ENOSPC: no space left on device in ${p.backupDir})` : ''}`,
      full ? 'Free space where --backup-dir points, or point it at a larger disk.' : `Fix what ${p.tool.name} reports above; nothing in ${dialect.spec.database} was changed.`);
  }
  p.options.onProgress?.({ phase: 'verifying', database: dialect.spec.database, file: dir });
  const files: BackupFileEntry[] = [];
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  for (const name of (await readdir(partial)).sort()) {
    const path = join(partial, name);
    const stat = await lstat(path);
    if (!stat.isFile() || !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) {
      throw failed(`${p.tool.name} left ${name} in ${partial}, which is not a plain file`, 'Make sure nothing else writes into --backup-dir, and run the backup again.');
    }
    files.push({ name, ...await hashAndSync(path, buffer) });
  }
  if (!p.lister) throw new Error('pg_restore was not located');
  const listed = await listArchive(dialect.dumpTool.listInvocation(p.lister, partial)!, p.env);
  if (!listed.ok) throw failed(`the archive does not list: ${listed.message}`, `pg_dump produced an unreadable archive; run ${p.tool.name} by hand.`);
  return {
    files, dumpBytes: files.reduce((sum, f) => sum + f.bytes, 0), command: invocation.display,
    verification: { method: 'pg_restore --list', entries: listed.entries },
  };
}

interface Part {
  name: string;
  load: 'parallel' | 'last';
  tables: string[];
  invocation: ToolInvocation;
  /** Resolves once the session has its snapshot (or has finished): the write freeze waits for every table part's. */
  snapshot: Promise<void>;
  snapshotTaken(): void;
}

/**
 * MySQL family: one dump session per share of the tables (largest first, each to the least loaded session) plus one for
 * views, routines and events, each writing its own 0600 file exactly as the single-file dump does (hashed while it is
 * written, flushed behind). They are started while a session of our own holds LOCK TABLES … READ on every table, and
 * the lock is let go once every table session says it has its snapshot — or, when a table is not InnoDB (its rows are
 * not in any snapshot), once the dump is over.
 */
async function dumpSqlFiles(p: PreparedBackup, dir: string, partial: string): Promise<DumpedSet> {
  const { dialect } = p.source;
  const parallel = dialect.dumpTool.parallel;
  if (parallel.format !== 'sql-files') throw new Error('not a SQL-files dump');
  const database = dialect.spec.database;
  const session = await connect(dialect.spec, { purpose: 'backup write freeze' });
  try {
    const freeze = await parallel.freezeWrites(session, { lockWaitSeconds: LOCK_WAIT_SECONDS });
    const parts: Part[] = [];
    try {
      const ext = p.compression === 'gzip' ? '.gz' : p.compression === 'zstd' ? '.zst' : '';
      const groups = shareOut(freeze.tables, p.jobs);
      groups.forEach((tables, i) => parts.push(part(`tables-${String(i + 1).padStart(2, '0')}.sql${ext}`, 'parallel', tables,
        parallel.tablesInvocation(dialect.spec, p.tool, p.server, tables))));
      parts.push(part(`objects.sql${ext}`, 'last', [], parallel.objectsInvocation(dialect.spec, p.tool, p.server, freeze.views)));
      const holdToTheEnd = freeze.tables.some((t) => !t.transactional);
      const released = Promise.all(parts.filter((x) => x.load === 'parallel').map((x) => x.snapshot))
        .then(() => (holdToTheEnd ? undefined : freeze.release()));

      const internal = new AbortController();
      const signal = p.options.signal ? AbortSignal.any([p.options.signal, internal.signal]) : internal.signal;
      const report = reporter(p);
      const dumpedBytes = parts.map(() => 0);
      const writtenBytes = parts.map(() => 0);
      let announced = false;
      let firstError: unknown;
      const runs = parts.map(async (x, i) => {
        try {
          return await dumpPart(p, x, join(partial, x.name), signal, {
            started: (pid) => {
              if (announced) return;
              announced = true;
              p.options.onProgress?.({ phase: 'started', database, file: dir, pid, command: x.invocation.display, estimatedBytes: p.estimatedBytes });
            },
            report: report && ((dumped, written) => {
              dumpedBytes[i] = dumped;
              writtenBytes[i] = written;
              report(sum(dumpedBytes), sum(writtenBytes));
            }),
            onLine: (line) => { if (parallel.snapshotTaken(line)) x.snapshotTaken(); },
          });
        } catch (error) {
          // The first part to fail stops the others; theirs are the consequence, not the cause.
          if (firstError === undefined && !internal.signal.aborted) firstError = error;
          internal.abort();
          throw error;
        } finally {
          x.snapshotTaken();
        }
      });
      const settled = await Promise.allSettled(runs);
      await released.catch(() => undefined);
      interrupted(p);
      if (firstError !== undefined) throw firstError;
      p.options.onProgress?.({ phase: 'verifying', database, file: dir });
      const files: BackupFileEntry[] = [];
      let dumpBytes = 0;
      settled.forEach((s, i) => {
        const dumped = (s as PromiseFulfilledResult<Dumped>).value;
        if (!dialect.dumpTool.dumpCompleted(dumped.tail)) {
          throw failed(`${p.tool.name} exited successfully but ${parts[i].name} does not end with its completion line`,
            `The dump is incomplete; run ${p.tool.name} by hand to see why.`);
        }
        dumpBytes += dumped.dumpBytes;
        files.push({ name: parts[i].name, bytes: dumped.bytes, sha256: dumped.sha256, load: parts[i].load,
          ...(parts[i].load === 'parallel' ? { tables: parts[i].tables } : {}) });
      });
      return { files, dumpBytes, command: parts[0].invocation.display, verification: { method: 'completion-line' } };
    } finally {
      for (const x of parts) x.invocation.dispose();
      await freeze.release().catch(() => undefined);
    }
  } finally {
    // Closing the session also ends its lock, should UNLOCK TABLES have failed.
    await session.close();
  }
}

function part(name: string, load: Part['load'], tables: string[], invocation: ToolInvocation): Part {
  let taken!: () => void;
  const snapshot = new Promise<void>((resolve) => { taken = resolve; });
  return { name, load, tables, invocation, snapshot, snapshotTaken: () => taken() };
}

/** One dump session into its own file, through the single-file dump's own code (dumpToDisk.ts); durable when it returns. */
async function dumpPart(p: PreparedBackup, x: Part, path: string, signal: AbortSignal,
  hooks: { started: (pid: number | undefined) => void; report: ((dumped: number, written: number) => void) | undefined; onLine: (line: string) => void }): Promise<Dumped> {
  const { dialect } = p.source;
  const handle = await open(path, 'wx+', 0o600);
  try {
    const context: DumpContext = {
      file: path, toolName: p.tool.name, redactor: new Redactor([dialect.spec.password]), dir: p.backupDir, env: p.env, signal,
      database: dialect.spec.database, onLine: hooks.onLine,
    };
    const dumped = p.compression === 'none'
      ? await dumpToFile(x.invocation, handle, 'sql', context, hooks.started, hooks.report)
      : await dumpThroughCodec(x.invocation, handle, p.compression, context, hooks.started, hooks.report);
    // The compressing path's write stream has closed the handle by now.
    if (p.compression === 'none') await handle.sync();
    else await syncPath(path);
    return dumped;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The tables in at most `jobs` groups of about the same size (largest first, each to the lightest group): the
 * slowest session sets the wall, and a table is dumped by one session, so one huge table is one session's work.
 */
export function shareOut(tables: readonly TableToDump[], jobs: number): string[][] {
  const count = Math.min(jobs, tables.length);
  const groups = Array.from({ length: count }, () => ({ bytes: 0, tables: [] as string[] }));
  for (const t of [...tables].sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1))) {
    const lightest = groups.reduce((min, g) => (g.bytes < min.bytes ? g : min), groups[0]);
    lightest.bytes += Math.max(t.bytes, 1);
    lightest.tables.push(t.name);
  }
  return groups.map((g) => g.tables);
}

async function hashAndSync(path: string, buffer: Buffer): Promise<{ bytes: number; sha256: string }> {
  const handle: FileHandle = await open(path, 'r');
  try {
    // pg_dump creates its files with the umask's mode; the directory is ours (0700), the files are made ours too.
    await handle.chmod(0o600);
    const hashed = await hashFile(handle, { buffer });
    await handle.sync();
    return { bytes: hashed.bytes, sha256: hashed.sha256 };
  } finally {
    await handle.close();
  }
}

function reporter(p: PreparedBackup): ((dumped: number, written: number) => void) | undefined {
  const onProgress = p.options.byteProgress === false ? undefined : p.options.onProgress;
  if (!onProgress) return undefined;
  let last = 0;
  return (bytesDumped, bytesWritten) => {
    const t = Date.now();
    if (t - last < PROGRESS_EVERY_MS) return;
    last = t;
    onProgress({ phase: 'dumping', database: p.source.dialect.spec.database, bytesDumped, bytesWritten, elapsedMs: t - p.started.getTime(), estimatedBytes: p.estimatedBytes });
  };
}

function interrupted(p: PreparedBackup): void {
  if (p.options.signal?.aborted) {
    throw new OmMigrateError('INTERRUPTED', `backup of ${p.source.dialect.spec.database} interrupted; the partial backup was removed`);
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(dir)) bytes += (await lstat(join(dir, name)).catch(() => undefined))?.size ?? 0;
  return bytes;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function hostLabel(): string {
  return hostname().replace(/[^A-Za-z0-9-]/g, '_');
}

/**
 * Creates the backup's directory 0700 under its partial name (mkdir fails on anything already there, a planted link
 * included); a final name already taken gets the next sequence, as the single-file backup does.
 */
async function createBackupDirectory(backupDir: string, name: (sequence: number) => string): Promise<{ dir: string; partial: string }> {
  for (let sequence = 1; ; sequence += 1) {
    const dir = join(backupDir, name(sequence));
    const partial = `${dir}.${hostLabel()}.${process.pid}.partial`;
    try {
      if (await lstat(dir).then(() => true, () => false)) throw Object.assign(new Error(`${dir} exists`), { code: 'EEXIST' });
      await mkdir(partial, { mode: 0o700 });
      return { dir, partial };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && sequence < MAX_SAME_SECOND) continue;
      throw failed(`cannot create ${partial}: ${code ?? (error as Error).message}`,
        code === 'EEXIST' ? `${MAX_SAME_SECOND} backups of this database were started within one second; wait a second and run again.`
          : 'Make --backup-dir (OM_MIGRATE_BACKUP_DIR) writable by this user, or point it at a directory that is.', error);
    }
  }
}

/** Removes the partial backup directories that runs on this host left when they were killed (their process is gone). */
async function sweepPartialDirectories(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = PARTIAL.exec(name);
    if (!match || match[2] !== hostLabel() || Number(match[3]) === process.pid || alive(Number(match[3]))) continue;
    const path = join(dir, name);
    if ((await lstat(path).catch(() => undefined))?.isDirectory()) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}
