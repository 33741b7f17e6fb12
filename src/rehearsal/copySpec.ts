import type { ConnectionSpec } from '../config/ConnectionSpec.js';

export { COPY_PREFIX, copyNameFor, copyPrefixFor, KEPT_PREFIX, RESTORE_PREFIX } from '../config/scratchNames.js';

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
