import type { Engine } from '../config/ConnectionSpec.js';

import type { Compression } from '../config/resolveConfig.js';

export type { Compression } from '../config/resolveConfig.js';

/**
 * A database name as one safe file-name component: every byte outside [A-Za-z0-9_-], and a leading `-`, is
 * percent-encoded, so `../x`, `a/b` or `-x` stay inside --backup-dir and never read as a path, an option or a hidden
 * file.
 */
export function fileNameComponent(name: string): string {
  return [...Buffer.from(name, 'utf8')].map((byte, i) => {
    const c = String.fromCharCode(byte);
    return /[A-Za-z0-9_]/.test(c) || (c === '-' && i > 0) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('') || '%00';
}

/**
 * `<database>-om<version>-<UTC timestamp>.<ext>`: the name says what the file holds (the database name encoded by
 * fileNameComponent). A second backup of the same
 * database within the same second gets `-2`, `-3`… after the timestamp (`sequence`), never overwriting the first.
 */
/** A parallel backup's directory (--jobs): `<database>-om<version>-<UTC timestamp>.<sql|dump>.d`, its files inside. */
export function backupDirectoryName(database: string, omVersion: string | undefined, engine: Engine, at: Date, sequence = 1): string {
  return `${backupFileName(database, omVersion, engine, at, 'none', sequence)}.d`;
}

export function backupFileName(database: string, omVersion: string | undefined, engine: Engine, at: Date,
  compression: Compression = 'none', sequence = 1): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const version = omVersion ?? 'none';
  const ext = engine === 'postgres' ? 'dump' : compression === 'gzip' ? 'sql.gz' : compression === 'zstd' ? 'sql.zst' : 'sql';
  return `${fileNameComponent(database)}-om${version}-${stamp}${sequence > 1 ? `-${sequence}` : ''}.${ext}`;
}

/** The n-th name for a planned backup whose name is taken already: `-n` after the timestamp, as backupFileName does. */
export function withSequence(name: string, sequence: number): string {
  return sequence > 1 ? name.replace(/(\d{8}T\d{6}Z)(\.[^/]*)$/, `$1-${sequence}$2`) : name;
}

/** A backup name with its timestamp (and sequence) blanked: two plans' names for the same database compare equal. */
export function backupNameShape(name: string): string {
  return name.replace(/\d{8}T\d{6}Z(-\d+)?(?=\.)/, '<time>');
}
