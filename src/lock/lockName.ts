import type { ConnectionSpec } from '../config/ConnectionSpec.js';

/** One lock per database: GET_LOCK names are server-wide (max 64 chars), so the database name is part of it. */
export function runLockName(spec: ConnectionSpec): string {
  return `om-migrate:${spec.database}`.slice(0, 64);
}
