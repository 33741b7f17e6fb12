import type { ConnectionSpec } from '../config/ConnectionSpec.js';

/** OpenMetadata's own names (conf/openmetadata.yaml reads them), so its migrator connects where we checked. */
export function openMetadataEnvironment(spec: ConnectionSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const mysql = spec.engine === 'mysql';
  return {
    ...base,
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

/** Airflow reads its database from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN. */
export function airflowEnvironment(spec: ConnectionSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: toSqlAlchemyUrl(spec) };
}

export function toSqlAlchemyUrl(spec: ConnectionSpec): string {
  const driver = spec.driver ?? (spec.engine === 'mysql' ? 'mysqldb' : 'psycopg2');
  const scheme = `${spec.engine === 'mysql' ? 'mysql' : 'postgresql'}+${driver}`;
  const auth = `${encodeURIComponent(spec.user)}${spec.password ? `:${encodeURIComponent(spec.password)}` : ''}`;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const query = new URLSearchParams(spec.params).toString();
  return `${scheme}://${auth}@${host}:${spec.port}/${encodeURIComponent(spec.database)}${query ? `?${query}` : ''}`;
}
