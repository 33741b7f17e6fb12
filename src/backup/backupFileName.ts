import type { Engine } from '../config/ConnectionSpec.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * `<database>-om<version>-<UTC timestamp>.<ext>`: the name says what the file holds. A second backup of the same
 * database within the same second gets `-2`, `-3`… after the timestamp (`sequence`), never overwriting the first.
 */
export function backupFileName(database: string, omVersion: string | undefined, engine: Engine, at: Date,
  compression: Compression = 'none', sequence = 1): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const version = omVersion ?? 'none';
  const ext = engine === 'postgres' ? 'dump' : compression === 'gzip' ? 'sql.gz' : compression === 'zstd' ? 'sql.zst' : 'sql';
  return `${database}-om${version}-${stamp}${sequence > 1 ? `-${sequence}` : ''}.${ext}`;
}
