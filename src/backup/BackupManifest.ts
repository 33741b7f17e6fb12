import { randomBytes } from 'node:crypto';
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
  manifestVersion: 1;
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
  format: DumpFormat;
  compression: Compression;
  /** The backup's file name, in the manifest's own directory. */
  file: string;
  bytes: number;
  /** Bytes the dump tool produced, before our compression. */
  dumpBytes: number;
  sha256: string;
  startedAt: string;
  finishedAt: string;
  tool: { name: string; path: string; version: string | undefined };
  command: string[];
  verification: { method: 'completion-line' | 'pg_restore --list'; entries?: number };
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
    const ok = value.manifestVersion === 1 && value.createdBy === 'om-migrate' && typeof value.file === 'string'
      && typeof value.sha256 === 'string' && typeof value.database === 'string' && (value.engine === 'mysql' || value.engine === 'postgres');
    return ok ? (value as BackupManifest) : undefined;
  } catch {
    return undefined;
  }
}
