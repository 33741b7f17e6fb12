import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Engine, TargetRole } from '../config/ConnectionSpec.js';
import type { DumpFormat, Flavour } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { Compression } from './backupFileName.js';

/**
 * What a backup holds, written beside it as `<file>.manifest.json`. It never contains a secret: the command line is
 * the one the tool ran with the defaults file replaced by a placeholder, and the password never reached argv anyway.
 */
export interface BackupManifest {
  /** 1: one file (`file`, `bytes`, `sha256`). 2: a directory of files (`files`), from a parallel dump (--jobs). */
  manifestVersion: 1 | 2;
  /** Retention only ever removes backups whose manifest says this. */
  createdBy: 'om-migrate';
  omMigrateVersion: string;
  role: TargetRole;
  engine: Engine;
  server: { flavour: Flavour; version: string; versionText: string; host: string; port: number };
  user: string;
  database: string;
  /** The OpenMetadata version recorded in SERVER_CHANGE_LOG at backup time; null for a database without it. */
  openmetadataVersion: string | null;
  /** Airflow's alembic revision at backup time; null for a database without it. */
  airflowRevision: string | null;
  /** Rows of SERVER_CHANGE_LOG at backup time (null without the table): with the versions, what "unchanged since" compares. */
  changeLogRows?: number | null;
  /** The `up` run that took it (absent for `om-migrate backup`): only a resumed run of the same plan takes it over. */
  runId?: string | null;
  /**
   * `up`'s backups: the watched tables' row counts (src/targets/rowCounts.ts) read right before the dump. A resumed run
   * takes the backup over only while the live database still shows exactly these counts: a row written since is in no
   * backup. Absent (an older om-migrate, `om-migrate backup`): never taken over.
   */
  rowCounts?: Array<{ table: string; rows: number; exact: boolean }> | null;
  format: DumpFormat;
  compression: Compression;
  /** The backup's file name, in the manifest's own directory (version 2: the directory that holds `files`). */
  file: string;
  /** Version 2: the sum of the files' sizes. */
  bytes: number;
  /** Bytes the dump tool produced, before our compression. */
  dumpBytes: number;
  /** Version 2: the SHA-256 of the listing of `files` (fileSetDigest), which names every file's own hash. */
  sha256: string;
  /** Version 2: every file of the backup, each with its size and SHA-256; nothing else may be in the directory. */
  files?: BackupFileEntry[];
  /** Version 2: how many dump sessions made it. */
  jobs?: number;
  startedAt: string;
  finishedAt: string;
  tool: { name: string; path: string; version: string | undefined };
  command: string[];
  verification: { method: 'completion-line' | 'pg_restore --list'; entries?: number };
}

/** One file of a directory backup (manifest version 2). */
export interface BackupFileEntry {
  /** A plain name inside the backup's directory: no path, nothing hidden. */
  name: string;
  bytes: number;
  sha256: string;
  /** sql-files: 'parallel' files are restored several at a time, then the 'last' ones (views, routines, events). */
  load?: 'parallel' | 'last';
  /** sql-files: the tables the file holds. */
  tables?: string[];
}

const FILE_ENTRY_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * The one hash that stands for a directory backup: SHA-256 of one line per file, `<sha256> <bytes> <name>`, in name
 * order. It changes when any file, size or name does, so `sha256` keeps meaning "this backup" for whoever reads only it.
 */
export function fileSetDigest(files: ReadonlyArray<Pick<BackupFileEntry, 'name' | 'bytes' | 'sha256'>>): string {
  const lines = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => `${f.sha256} ${f.bytes} ${f.name}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** Whether the backup is a directory of files (a parallel dump), not one file. */
export function isFileSet(manifest: BackupManifest): manifest is BackupManifest & { files: BackupFileEntry[] } {
  return manifest.manifestVersion === 2 && Array.isArray(manifest.files);
}

export function manifestPathFor(backupFile: string): string {
  return `${backupFile}.manifest.json`;
}

/** The backup file a manifest describes; a manifest can only ever point into its own directory. */
export function backupFileOf(manifestPath: string, manifest: BackupManifest): string {
  return join(dirname(manifestPath), basename(manifest.file));
}

/**
 * Written to a fresh temporary name, created exclusively (a planted file or link there makes it fail instead of being
 * followed), and renamed over the final name, so a manifest is either complete or absent.
 */
export async function writeManifest(backupFile: string, manifest: BackupManifest): Promise<string> {
  const path = manifestPathFor(backupFile);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    // Its content durable before its name: after a crash the manifest is complete or absent, never empty.
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  return path;
}

export async function readManifest(path: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new OmMigrateError('USAGE', `cannot read manifest ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'Give the .manifest.json file written beside the backup (--manifest).', cause: error });
  }
  const manifest = parseManifest(text);
  if (!manifest) {
    throw new OmMigrateError('USAGE', `${path} is not an om-migrate backup manifest`,
      { hint: 'Give the .manifest.json file om-migrate wrote beside the backup.' });
  }
  return manifest;
}

/** undefined for anything that is not a manifest om-migrate wrote. */
export function parseManifest(text: string): BackupManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<BackupManifest>;
    // A single file is one of the single-file formats, a directory one of the parallel ones: never mixed.
    const ok = ((value.manifestVersion === 1 && (value.format === undefined || value.format === 'sql' || value.format === 'custom'))
      || (value.manifestVersion === 2 && (value.format === 'directory' || value.format === 'sql-files') && validFiles(value.files)))
      && value.createdBy === 'om-migrate' && typeof value.file === 'string'
      && typeof value.sha256 === 'string' && typeof value.database === 'string' && (value.engine === 'mysql' || value.engine === 'postgres');
    return ok ? (value as BackupManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** A version 2 listing: plain, distinct names, each with a size and a SHA-256. */
function validFiles(files: unknown): boolean {
  if (!Array.isArray(files) || files.length === 0) return false;
  const names = new Set<string>();
  for (const f of files as Array<Partial<BackupFileEntry>>) {
    if (typeof f !== 'object' || f === null || typeof f.name !== 'string' || !FILE_ENTRY_NAME.test(f.name) || names.has(f.name)
      || typeof f.bytes !== 'number' || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) return false;
    names.add(f.name);
  }
  return true;
}
