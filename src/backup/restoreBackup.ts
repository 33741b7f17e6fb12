import { createReadStream, existsSync, lstatSync, readdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConnectionSpec, describeSpec } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { compareVersions, currentOpenMetadataVersion } from '../openmetadata/versions.js';
import { connect } from '../dialects/connect.js';
import type { Dialect } from '../dialects/types.js';
import { configError, OmMigrateError, usageError } from '../errors.js';
import { backupFileOf, isFileSet, readManifest, type BackupManifest } from './BackupManifest.js';
import { decompressor } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
import { directoryProblem, fileProblem } from '../process/pathTrust.js';
import { Redactor } from '../process/redact.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import { restoreSqlFiles } from './restoreSqlFiles.js';
import { verifyBackup } from './verifyBackup.js';
import { childEnvironment } from '../process/childEnv.js';

/** 1 MB reads instead of the stream default of 64 KB: a sixteenth of the chunks through the hash and the pipe. */
const READ_CHUNK = 1024 * 1024;

export interface RestoreOptions {
  /** The database to restore into; the manifest's own database by default. It must exist. */
  into?: string;
  /** Restore over a non-empty database, or one whose OpenMetadata version is newer than the backup's. */
  force?: boolean;
  onProgress?: (event: RestoreProgress) => void;
  /** pg_restore --jobs for a PostgreSQL archive, or that many clients at once for a parallel MySQL backup: no longer one transaction. */
  jobs?: number;
  /** Aborting (SIGINT/SIGTERM, a lost run lock) stops the client; an interruption says what state the database is left in. */
  signal?: AbortSignal;
}

export type RestoreProgress =
  | { phase: 'verifying'; file: string }
  | { phase: 'restoring'; database: string; pid: number | undefined; command: string[] }
  | { phase: 'loading'; database: string; bytesRead: number; totalBytes: number };

export interface RestoreResult {
  manifest: BackupManifest;
  database: string;
  target: string;
  /** The database held tables before (only with force). */
  replacedExisting: boolean;
  openmetadataVersionBefore: string | null;
  nextSteps: string[];
}

const PROGRESS_EVERY_MS = 250;

/**
 * Restores a verified backup with the stock client, after checking its SHA-256 and that the target is not newer than
 * the backup (OpenMetadata version) and is empty — each refusal is RESTORE_REFUSED unless `force`.
 */
export async function restoreBackup(manifestPath: string, config: Pick<RunConfig, 'openmetadata' | 'airflow' | 'env'> & Partial<Pick<RunConfig, 'pgBinDir'>>,
  options: RestoreOptions = {}): Promise<RestoreResult> {
  const env = config.env;
  options.onProgress?.({ phase: 'verifying', file: manifestPath });
  // Before anything reads them: a manifest and a dump that another user could have written (or swapped after the
  // check, from a directory they own or may write) prove nothing by matching each other's hash.
  const untrusted = pathProblem(manifestPath) ?? pathProblem(backupFileOf(manifestPath, await readManifest(manifestPath)));
  if (untrusted) {
    throw refused(`${untrusted}: another user could have written the backup or its manifest`,
      'Restore from a copy in a directory of your own (mkdir -m 0700) whose files only you (or root) can write.');
  }
  const verification = await verifyBackup(manifestPath, { env, scan: true, pgBinDir: config.pgBinDir });
  const { manifest, file } = verification;
  if (!verification.ok) {
    throw refused(`the backup does not verify: ${verification.problems.join('; ')}`,
      'Use an intact copy of the backup and its manifest; never restore a file whose checksum does not match.');
  }
  if (verification.unsafe.length > 0) {
    throw refused(`${file} holds what a dump of one database never does: ${verification.unsafe.join('; ')}; nothing was restored`,
      'This is not a dump as the dump tool wrote it for om-migrate (an edited file, a dump of several databases, or a table '
        + 'name with a line break written raw by an older dump tool). Restore it by hand only after reading those lines.');
  }
  const jobs = options.jobs ?? 1;
  if (jobs > 1 && manifest.format === 'sql') {
    throw usageError(`--jobs ${jobs}: ${file} is a single SQL dump, which its client restores in one session`,
      'Leave --jobs out; parallel restore applies to PostgreSQL archives and to backups taken with --jobs.');
  }
  const spec = targetSpec(manifest, config, options.into);
  const dialect = await connect(spec, { purpose: 'restore' });
  try {
    const { versionBefore, relations } = await guard(dialect, manifest, options.force ?? false);
    const server = await dialect.serverInfo();
    const tool = dialect.dumpTool.locateRestore(server, env, { pgBinDir: config.pgBinDir, archiveToolVersion: manifest.tool.version });
    if (tool.problem || !tool.path) {
      throw new OmMigrateError('RESTORE_FAILED', `cannot restore: ${tool.problem ?? `${tool.name} not found`}`, { hint: tool.fix });
    }
    if (options.signal?.aborted) {
      throw isInterruption(options.signal.reason) ? interrupted(spec, 'before anything was written to it: it is as it was') : options.signal.reason;
    }
    if (isFileSet(manifest) && manifest.format === 'sql-files') {
      // A parallel MySQL-family backup: one client per file, `jobs` at a time (restoreSqlFiles.ts).
      options.onProgress?.({ phase: 'restoring', database: spec.database, pid: undefined, command: tool.path ? [tool.name] : [] });
      await restoreSqlFiles({ manifest, dir: file, spec, dumpTool: dialect.dumpTool, tool, env, jobs, replace: relations.length > 0, signal: options.signal,
        onLoading: options.onProgress && ((bytesRead) => options.onProgress?.({ phase: 'loading', database: spec.database, bytesRead, totalBytes: manifest.bytes })) });
      return { manifest, database: spec.database, target: describeSpec(spec), replacedExisting: relations.length > 0,
        openmetadataVersionBefore: versionBefore ?? null, nextSteps: nextSteps(manifest, spec) };
    }
    const { invocation, stdin } = dialect.dumpTool.restoreInvocation(spec, tool, file, { replace: relations.length > 0, jobs });
    // An uncompressed SQL dump is the client's standard input itself, as `mariadb < file` would have it: no byte of it
    // passes through this process, where a pipe fed by Node cost two copies and an event-loop turn per chunk. A
    // compressed one still passes through the decompressor.
    const direct = stdin && manifest.compression === 'none' ? await open(file, 'r') : undefined;
    try {
      const running = spawnChild({
        argv: invocation.argv, env: childEnvironment(env, 'tool-basics', invocation.env), stdin: direct ? direct.fd : stdin ? 'pipe' : 'ignore', stderr: 'lines',
        redactor: new Redactor([spec.password]), signal: options.signal,
      });
      options.onProgress?.({ phase: 'restoring', database: spec.database, pid: running.pgid, command: invocation.display });
      const loading = (bytesRead: number) => options.onProgress?.({ phase: 'loading', database: spec.database, bytesRead, totalBytes: manifest.bytes });
      let feeding: Promise<void> = Promise.resolve();
      let polling: NodeJS.Timeout | undefined;
      if (direct && options.onProgress) {
        // The client reads through a duplicate of our descriptor, so the offset it has reached is ours to read.
        polling = setInterval(() => { readOffset(direct.fd).then((at) => { if (at !== undefined) loading(at); }, () => undefined); }, PROGRESS_EVERY_MS);
      } else if (stdin && manifest.compression !== 'none') {
        let last = 0;
        const meter = new DumpMeter({ hash: false, tail: false, onChunk: () => {
          const t = Date.now();
          if (t - last < PROGRESS_EVERY_MS) return;
          last = t;
          loading(meter.bytes);
        } });
        feeding = pipeline([createReadStream(file, { highWaterMark: READ_CHUNK }), meter, decompressor(manifest.compression, env).stream, running.stdin!]);
      }
      const [fed, exited] = await Promise.allSettled([feeding, running.exit]);
      if (polling) clearInterval(polling);
      const exit = exited.status === 'fulfilled' ? exited.value : undefined;
      if (options.signal?.aborted && !(exit && succeeded(exit))) {
        if (!isInterruption(options.signal.reason)) throw options.signal.reason;
        throw interrupted(spec, jobs > 1 ? `pg_restore ran with --jobs ${jobs}, not in one transaction: it may be partly restored; restore again with --force`
          : dialect.capabilities.transactionalDdl ? 'pg_restore ran in one transaction, which was not committed: it is as it was'
            : 'it may be partly restored (the client commits as it goes); restore again with --force');
      }
      if (!exit || !succeeded(exit)) {
        throw new OmMigrateError('RESTORE_FAILED',
          `restore into ${describeSpec(spec)} failed: ${exit ? describeExit(tool.name, exit) : `${tool.name} failed`}`,
          { hint: jobs > 1
            ? `pg_restore ran with --jobs ${jobs}, not in one transaction: the database may be partly restored. Fix what it reports and run restore again with --force.`
            : dialect.capabilities.transactionalDdl
            ? 'pg_restore ran in one transaction: the database is as it was. Fix what it reports and run restore again.'
            : 'The database may be partly restored. Fix what the client reports and run restore again with --force.' });
      }
      if (fed.status === 'rejected') {
        throw new OmMigrateError('RESTORE_FAILED', `reading ${file} failed during the restore: ${(fed.reason as Error).message}`,
          { hint: 'The database may be partly restored; check the file and run restore again with --force.' });
      }
    } finally {
      invocation.dispose();
      await direct?.close();
    }
    return {
      manifest,
      database: spec.database,
      target: describeSpec(spec),
      replacedExisting: relations.length > 0,
      openmetadataVersionBefore: versionBefore ?? null,
      nextSteps: nextSteps(manifest, spec),
    };
  } finally {
    await dialect.close();
  }
}

/** Stopped by SIGINT/SIGTERM, rather than by a lost run lock (whose own error says what to do). */
function isInterruption(reason: unknown): boolean {
  return !(reason instanceof OmMigrateError) || reason.code === 'INTERRUPTED';
}

/** Stopped by SIGINT/SIGTERM (exit 130), saying what state the target is left in. */
function interrupted(spec: ConnectionSpec, state: string): OmMigrateError {
  return new OmMigrateError('INTERRUPTED', `restore into ${describeSpec(spec)} interrupted ${state.startsWith('before') ? state : `: ${state}`}`, {
    hint: 'Run the restore again when you are ready; it checks the database first.',
  });
}

/** A descriptor's file offset, from Linux's /proc (undefined elsewhere): progress only. */
async function readOffset(fd: number): Promise<number | undefined> {
  const m = /^pos:\s*(\d+)/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

async function guard(dialect: Dialect, manifest: BackupManifest, force: boolean) {
  const versionBefore = currentOpenMetadataVersion((await dialect.openmetadata.changeLogVersions()) ?? []);
  const relations = await dialect.introspect.relationNames();
  const where = describeSpec(dialect.spec);
  if (!force && versionBefore && manifest.openmetadataVersion && compareVersions(versionBefore, manifest.openmetadataVersion) > 0) {
    throw refused(`${where} is at OpenMetadata ${versionBefore}, newer than the backup's ${manifest.openmetadataVersion}`,
      `Restore into a fresh, empty database (--into NAME) and run OpenMetadata ${manifest.openmetadataVersion} against it; --force overwrites anyway.`);
  }
  if (!force && relations.length > 0) {
    const shown = relations.slice(0, 5).join(', ') + (relations.length > 5 ? ', …' : '');
    throw refused(`${where} is not empty (${relations.length} tables or views: ${shown})`,
      'Restore into a fresh, empty database (--into NAME), or pass --force to overwrite what is there.');
  }
  return { versionBefore, relations };
}

/** The database a restore of `manifestPath` loads into (`into`, else the one it was taken from), and its role. */
export async function restoreTarget(manifestPath: string, config: Pick<RunConfig, 'openmetadata' | 'airflow'>, into: string | undefined):
  Promise<{ role: BackupManifest['role']; spec: ConnectionSpec }> {
  const manifest = await readManifest(manifestPath);
  return { role: manifest.role, spec: targetSpec(manifest, config, into) };
}

/** The connection of the manifest's role, pointed at the database to restore into. */
function targetSpec(manifest: BackupManifest, config: Pick<RunConfig, 'openmetadata' | 'airflow'>, into: string | undefined): ConnectionSpec {
  const configured = config[manifest.role] ?? (manifest.role === 'openmetadata' ? config.airflow : config.openmetadata);
  if (!configured) {
    throw configError(`no ${manifest.role} database connection is configured to restore into`,
      'Give the connection as for backup (--db-host... or --airflow-url); --into picks the database name.');
  }
  if (configured.engine !== manifest.engine) {
    throw refused(`the backup is a ${manifest.engine} dump but the configured ${manifest.role} database is ${configured.engine}`,
      'Restore into a server of the same engine the backup was taken from.');
  }
  return { ...configured, database: into ?? manifest.database };
}

function nextSteps(manifest: BackupManifest, spec: ConnectionSpec): string[] {
  const steps: string[] = [];
  if (manifest.openmetadataVersion) {
    steps.push(`Run OpenMetadata ${manifest.openmetadataVersion} (the release this backup was taken from) against ${spec.database}; a newer server would migrate it again.`);
    steps.push(`To upgrade again later, run om-migrate preflight and then om-migrate up --to <version> before starting the newer server.`);
  }
  if (manifest.airflowRevision) {
    steps.push(`Run the ingestion image whose Airflow matches revision ${manifest.airflowRevision} against ${spec.database}.`);
  }
  if (spec.database !== manifest.database) {
    steps.push(`Point the server at ${spec.database} (OM_DATABASE / AIRFLOW_DB), or rename it to ${manifest.database}.`);
  }
  if (steps.length === 0) steps.push(`Start the application that uses ${spec.database} at the version it had on ${manifest.startedAt}.`);
  return steps;
}

/** A file, and the directory it is in, that only this user (or root) could have written or replaced. */
function pathProblem(path: string): string | undefined {
  if (!existsSync(path)) return undefined; // verifyBackup says so
  const parent = directoryProblem(dirname(resolve(path)), { groupMayWrite: true, othersIfSticky: true });
  if (parent) return parent;
  // A backup taken with --jobs is a directory of files: the directory and every file in it, as one file would be.
  if (!lstatSync(path).isDirectory()) return fileProblem(path);
  return directoryProblem(path) ?? readdirSync(path).map((name) => fileProblem(join(path, name))).find((p) => p !== undefined);
}

function refused(message: string, hint: string): OmMigrateError {
  return new OmMigrateError('RESTORE_REFUSED', `restore refused: ${message}`, { hint });
}
