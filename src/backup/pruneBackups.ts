import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LedgerStore } from '../dialects/types.js';
import { backupFileOf, BackupManifest, isFileSet, parseManifest } from './BackupManifest.js';

const MANIFEST_SUFFIX = '.manifest.json';

/** Whether two manifests describe backups of the same database on the same server. */
function sameDatabase(a: BackupManifest, b: BackupManifest): boolean {
  return a.engine === b.engine && a.database === b.database && a.server.host === b.server.host && a.server.port === b.server.port;
}

/**
 * The backups --keep must leave alone, whatever their age: those of `up` runs that did not finish (running, failed,
 * interrupted). The first of them may be the only copy of the state before the upgrade: a resumed run takes a new
 * backup of the half-migrated database, which is newer.
 */
export interface SparedBackups {
  /** Unfinished runs: a manifest naming one of them (BackupManifest.runId) is spared. */
  runIds: ReadonlySet<string>;
  /** The manifests (absolute paths) those runs' backup steps recorded, taken over ones included. */
  manifests: ReadonlySet<string>;
}

export const NOTHING_SPARED: SparedBackups = { runIds: new Set(), manifests: new Set() };

/**
 * What the ledger says is spared. Trusting the application database here can only keep more files, never remove one.
 * A ledger in a database this command did not open (an `up` of both databases, a `backup` of the Airflow one alone) is
 * not seen: its runs' backups are judged by age only.
 */
export async function sparedBackups(ledger: LedgerStore | undefined): Promise<SparedBackups> {
  const runs = ledger ? await ledger.unfinishedRuns() : [];
  return { runIds: new Set(runs.map((r) => r.runId)), manifests: new Set(runs.flatMap((r) => r.backupIds.map((id) => resolve(id)))) };
}

/**
 * Keeps the newest `keep` backups of `latest`'s database, removing older ones, except the `spared` ones (which do not
 * count towards `keep`). Only backups om-migrate made are candidates — it decides by manifest, never by file name — so
 * an operator's own dumps in the same directory stay. Returns the files removed.
 */
export async function pruneBackups(dir: string, latest: BackupManifest, keep: number, spared: SparedBackups): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number ≥ 1, not ${keep}`);
  const candidates: Array<{ manifestPath: string; manifest: BackupManifest }> = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith(MANIFEST_SUFFIX)) continue;
    const manifestPath = join(dir, name);
    const manifest = parseManifest(await readFile(manifestPath, 'utf8').catch(() => ''));
    // The manifest must describe the file it sits beside, or it is not one of ours.
    if (!manifest || `${manifest.file}${MANIFEST_SUFFIX}` !== name || !sameDatabase(manifest, latest)) continue;
    candidates.push({ manifestPath, manifest });
  }
  candidates.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt));
  const removed: string[] = [];
  for (const { manifestPath, manifest } of candidates.slice(keep)) {
    if (manifest.file === latest.file) continue;
    if ((manifest.runId && spared.runIds.has(manifest.runId)) || spared.manifests.has(resolve(manifestPath))) continue;
    const file = backupFileOf(manifestPath, manifest);
    // The backup first: a manifest without its file is harmless, a file without its manifest is an orphan.
    // A parallel backup is a directory of files (rm does not follow a link put in its place).
    if (isFileSet(manifest)) await rm(file, { recursive: true, force: true });
    else await unlink(file).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error; });
    await unlink(manifestPath);
    removed.push(file);
  }
  return removed;
}
