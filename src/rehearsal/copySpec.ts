import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import { COPY_PREFIX, RUN_HEX, runLabel, SOURCE_HASH_HEX, sourceHash, withReadableName, type ScratchSource } from '../config/scratchNames.js';

export { COPY_PREFIX } from '../config/scratchNames.js';

/** A --keep-copy copy's: never a hex digit after COPY_PREFIX, so no leftover search (by a hash prefix) can match it. */
export const KEPT_COPY_PREFIX = `${COPY_PREFIX}kept_`;

/**
 * The database a copy is made from, as exactly as it is told apart: server and name, case and all. Its hash
 * (sourceHash) keeps a rehearsal of `db_A` from taking `db_a`'s copy for its own; the server is part of it because a
 * --rehearse-admin-url server holds copies of databases of several servers, and only the source's own run lock proves
 * that no rehearsal of it is alive.
 */
export type CopySource = ScratchSource;

/**
 * What every copy of `source` a rehearsal may remove starts with: `omm_rehearsal_<hash>_`. Kept copies start with
 * `omm_rehearsal_kept_` and never match it.
 */
export function rehearsalCopyPrefix(source: CopySource, options: { kept?: boolean } = {}): string {
  return `${options.kept ? KEPT_COPY_PREFIX : COPY_PREFIX}${sourceHash(source)}_`;
}

/**
 * `omm_rehearsal_<hash>_<run>_<name>` (`omm_rehearsal_kept_…` with --keep-copy): the source's hash, the run's first 8
 * hex digits, then the database's name folded to [a-z0-9_] and cut to what fits — only for people to read; the hash
 * and the run tell copies apart. At most 63 characters (PostgreSQL's limit; MySQL's is 64).
 */
export function rehearsalCopyName(source: CopySource, runId: string, options: { kept?: boolean } = {}): string {
  return withReadableName(`${rehearsalCopyPrefix(source, options)}${runLabel(runId)}_`, source.database);
}

/** The run a copy's name carries (its first 8 hex digits), or undefined for a name that is not a copy's. */
export function rehearsalCopyRun(name: string): string | undefined {
  return new RegExp(`^${COPY_PREFIX}(?:kept_)?[0-9a-f]{${SOURCE_HASH_HEX}}_([0-9a-f]{${RUN_HEX}})(?:_|$)`).exec(name)?.[1];
}

/**
 * The same connection pointed at another database: the spec's database, and the SQLAlchemy URL Airflow's migrator
 * is given (its path), with everything else — driver, user, password, query — as configured.
 */
export function withDatabase(spec: ConnectionSpec, database: string): ConnectionSpec {
  const copy: ConnectionSpec = { ...spec, database };
  if (spec.url) {
    const url = new URL(spec.url);
    url.pathname = `/${database}`;
    copy.url = url.toString();
  }
  return copy;
}
