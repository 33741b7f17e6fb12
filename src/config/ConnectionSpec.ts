export type Engine = 'mysql' | 'postgres';

/** Which database of an OpenMetadata installation a connection reaches. */
export type TargetRole = 'openmetadata' | 'airflow';

/** Everything needed to open one connection. `password` is never printed: use `describeSpec`. */
export interface ConnectionSpec {
  engine: Engine;
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  /** May be empty for an admin connection that is not tied to one database. */
  database: string;
  /** Driver or JDBC parameters as given (useSSL, sslmode, ...), kept for TLS decisions and the migrators. */
  params: Record<string, string>;
  /** Where the values came from, for error messages: "flags", "environment", "openmetadata.yaml", "--airflow-url". */
  source: string;
  /** The SQLAlchemy driver (mysqldb, pymysql, psycopg2) when the spec came from an Airflow URL. */
  driver?: string;
  /** The SQLAlchemy URL exactly as configured, handed to Airflow's migrator unchanged; never printed (it holds the password). */
  url?: string;
}

export const DEFAULT_PORT: Record<Engine, number> = { mysql: 3306, postgres: 5432 };

/** A human-readable, secret-free name for a connection: "mysql://openmetadata_user@db:3306/openmetadata_db". */
export function describeSpec(spec: ConnectionSpec): string {
  const scheme = spec.engine === 'mysql' ? 'mysql' : 'postgresql';
  return `${scheme}://${spec.user}@${formatHost(spec.host)}:${spec.port}/${spec.database}`;
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Whether the connection parameters ask for TLS (JDBC useSSL/sslMode, libpq sslmode, SQLAlchemy ssl args). */
export function tlsRequested(spec: ConnectionSpec): boolean {
  const p = lowerKeys(spec.params);
  if (p.usessl === 'true' || p.requiressl === 'true') return true;
  const mode = p.sslmode ?? p['ssl-mode'] ?? p.ssl_mode;
  if (mode !== undefined) return !['disable', 'disabled', 'allow', 'prefer', 'preferred'].includes(mode.toLowerCase());
  return p.ssl === 'true' || p.ssl === '1';
}

function lowerKeys(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toLowerCase(), v]));
}
