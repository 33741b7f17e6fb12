import { restoreBackup, restoreTarget, type RestoreOptions, type RestoreResult } from '../backup/index.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { connect } from '../dialects/connect.js';
import { withLockedTargets } from '../engine/withRunLock.js';

export type { RestoreOptions, RestoreProgress, RestoreResult } from '../backup/index.js';

/**
 * `om-migrate restore`: verifies the backup named by its manifest, then loads it into an empty database (the one it
 * was taken from, or `into`). The library entry point, so that callers never reach into the backup module.
 *
 * It holds the run lock of the database it restores into, as `up` does (the one lock frame, withLockedTargets): a
 * restore never runs beside an `up`'s step or another restore of it (LOCK_HELD, exit 5), and losing the lock, SIGINT
 * or SIGTERM stop the client (LOCK_LOST exit 12, INTERRUPTED exit 130). No holder row is written: its table would land
 * in the database being restored, which must be empty.
 */
export async function restoreDatabase(manifestPath: string,
  config: Pick<RunConfig, 'openmetadata' | 'airflow' | 'env'> & Partial<Pick<RunConfig, 'pgBinDir' | 'lockTimeoutMs' | 'connectTimeoutMs'>>,
  options: Omit<RestoreOptions, 'signal'> = {}): Promise<RestoreResult> {
  const { role, spec } = await restoreTarget(manifestPath, config, options.into);
  const dialect = await connect(spec, { purpose: 'restore', timeoutMs: config.connectTimeoutMs });
  try {
    const target = { role, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
    return await withLockedTargets([target], { lockTimeoutMs: config.lockTimeoutMs ?? 0, connectTimeoutMs: config.connectTimeoutMs ?? 10_000 },
      // restoreBackup throws the interruption itself, saying what state the database is left in (issue 21, point 15).
      { lockCommand: 'restore', recordHolder: false, workReportsInterruption: true },
      ({ interruption }) => restoreBackup(manifestPath, config, { ...options, signal: interruption.signal }));
  } finally {
    await dialect.close();
  }
}
