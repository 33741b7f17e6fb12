import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { backupFileOf, BackupManifest, isFileSet, parseManifest } from './BackupManifest.js';

const MANIFEST_SUFFIX = '.manifest.json';

/** Whether two manifests describe backups of the same database on the same server. */
function sameDatabase(a: BackupManifest, b: BackupManifest): boolean {
  return a.engine === b.engine && a.database === b.database && a.server.host === b.server.host && a.server.port === b.server.port;
}

/**
 * Keeps the newest `keep` backups of `latest`'s database, removing older ones. Only backups om-migrate made are
 * candidates — it decides by manifest, never by file name — so an operator's own dumps in the same directory stay.
 * Returns the files removed.
 */
export async function pruneBackups(dir: string, latest: BackupManifest, keep: number): Promise<string[]> {
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
