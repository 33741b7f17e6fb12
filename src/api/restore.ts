import { restoreBackup, type RestoreOptions, type RestoreResult } from '../backup/index.js';
import type { RunConfig } from '../config/resolveConfig.js';

export type { RestoreOptions, RestoreProgress, RestoreResult } from '../backup/index.js';

/**
 * `om-migrate restore`: verifies the backup named by its manifest, then loads it into an empty database (the one it
 * was taken from, or `into`). The library entry point, so that callers never reach into the backup module.
 */
export async function restoreDatabase(manifestPath: string, config: Pick<RunConfig, 'openmetadata' | 'airflow'>,
  options: RestoreOptions = {}): Promise<RestoreResult> {
  return restoreBackup(manifestPath, config, options);
}
