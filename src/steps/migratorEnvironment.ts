import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import type { ConnectedTarget } from '../core/Target.js';
import { childEnvironment, type ChildEnvironment, type Environment } from '../process/childEnv.js';

/**
 * A migrator's whole environment (or that of a child run as the migrator would be: its check command, its driver
 * probe): the server's (OpenMetadata's `migrate` parses its whole yaml: search service, Fernet key, secrets manager),
 * minus om-migrate's own, with the database names set to the connection preflight checked, and `extra` over all.
 */
export function migratorEnvironment(target: Pick<ConnectedTarget, 'role' | 'spec'>, base: Environment,
  extra: Readonly<Record<string, string>> = {}): ChildEnvironment {
  const own = target.role === 'openmetadata' ? openMetadataVariables(target.spec) : airflowVariables(target.spec);
  return childEnvironment(base, 'all-but-own', { ...own, ...extra });
}

/** OpenMetadata's own names (conf/openmetadata.yaml reads them), so its migrator connects where we checked. */
function openMetadataVariables(spec: ConnectionSpec): Record<string, string> {
  const mysql = spec.engine === 'mysql';
  return {
    DB_DRIVER_CLASS: mysql ? 'com.mysql.cj.jdbc.Driver' : 'org.postgresql.Driver',
    DB_SCHEME: mysql ? 'mysql' : 'postgresql',
    DB_HOST: spec.host,
    DB_PORT: String(spec.port),
    DB_USER: spec.user,
    DB_USER_PASSWORD: spec.password ?? '',
    OM_DATABASE: spec.database,
    DB_PARAMS: new URLSearchParams(spec.params).toString() || (mysql ? 'allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC' : ''),
  };
}

/** Airflow reads its database from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, which wins over its _CMD and _SECRET forms. */
function airflowVariables(spec: ConnectionSpec): Record<string, string> {
  return { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: toSqlAlchemyUrl(spec) };
}

/** The URL as it was configured when it came as one (it then means exactly the same to Airflow); built otherwise. */
export function toSqlAlchemyUrl(spec: ConnectionSpec): string {
  if (spec.url !== undefined) return spec.url;
  const driver = spec.driver ?? (spec.engine === 'mysql' ? 'mysqldb' : 'psycopg2');
  const scheme = `${spec.engine === 'mysql' ? 'mysql' : 'postgresql'}+${driver}`;
  const auth = `${encodeURIComponent(spec.user)}${spec.password ? `:${encodeURIComponent(spec.password)}` : ''}`;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const query = new URLSearchParams(spec.params).toString();
  return `${scheme}://${auth}@${host}:${spec.port}/${encodeURIComponent(spec.database)}${query ? `?${query}` : ''}`;
}
