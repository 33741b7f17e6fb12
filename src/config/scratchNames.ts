import { createHash } from 'node:crypto';
import type { ConnectionSpec } from './ConnectionSpec.js';

/** Every rehearsal copy's name starts so: it can never be taken for a real database, and is found again by it. */
export const COPY_PREFIX = 'omm_rehearsal_';

/** restore-on-failure's scratch copy (omm_restore_…) and the failed state it keeps (omm_failed_…). */
export const RESTORE_PREFIX = 'omm_restore_';
export const KEPT_PREFIX = 'omm_failed_';

/** A database as exactly as it is told apart: engine, server and name, case and all. */
export type ScratchSource = Pick<ConnectionSpec, 'engine' | 'host' | 'port' | 'database'>;

export const SOURCE_HASH_HEX = 10;
export const RUN_HEX = 8;
/** PostgreSQL's identifier limit (MySQL's is 64): what every scratch name fits in. */
export const MAX_SCRATCH_NAME = 63;

/**
 * 10 hex digits of SHA-256 over engine, server and the exact database name. Folding a name to a lower-case identifier
 * is not injective (`db_A` and `db_a` are two PostgreSQL databases, and two MySQL ones on a case-sensitive server); the
 * hash is, so that names made from it never fold two databases into one.
 */
export function sourceHash(source: ScratchSource): string {
  return createHash('sha256').update(`${source.engine}://${source.host}:${source.port}/${source.database}`).digest('hex').slice(0, SOURCE_HASH_HEX);
}

/** The run's first 8 hex digits. */
export function runLabel(runId: string): string {
  return runId.replace(/[^0-9a-f]/gi, '').slice(0, RUN_HEX).toLowerCase().padEnd(RUN_HEX, '0');
}

/**
 * `<head><name>`: the database's name folded to [a-z0-9_] and cut to what fits in 63 characters — only for people to
 * read; the hash and the run in `head` tell names apart.
 */
export function withReadableName(head: string, database: string): string {
  const readable = database.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, Math.max(0, MAX_SCRATCH_NAME - head.length));
  return `${head}${readable}`.replace(/_$/, '');
}

/**
 * restore-on-failure's names for one database and run: `omm_restore_<hash>_<run>_<name>` for the scratch copy and
 * `omm_failed_<hash>_<run>_<name>` for the failed state it keeps, the hash that of the source (sourceHash), so that
 * `db_A` and `db_a` on one server never get the same name in one run. Without a run id, `<run>` stands in (the plan).
 */
export function restoreNames(source: ScratchSource, runId?: string): { scratch: string; kept: string } {
  const run = runId === undefined ? PLACEHOLDER_RUN : runLabel(runId);
  const head = (prefix: string) => `${prefix}${sourceHash(source)}_`;
  // The placeholder takes the run's place after the name is cut, so that the plan shows the name as it will be.
  const name = (prefix: string) => withReadableName(`${head(prefix)}${run}_`, source.database)
    .replace(`${head(prefix)}${PLACEHOLDER_RUN}`, `${head(prefix)}<run>`);
  return { scratch: name(RESTORE_PREFIX), kept: name(KEPT_PREFIX) };
}

/** Not hex: never a real run's label. */
const PLACEHOLDER_RUN = 'x'.repeat(RUN_HEX);
