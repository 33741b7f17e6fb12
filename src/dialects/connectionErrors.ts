import { ConnectionSpec, describeSpec } from '../config/ConnectionSpec.js';
import { OmMigrateError } from '../errors.js';

export type ConnectFailure = 'unknown-host' | 'refused' | 'timeout' | 'auth' | 'database-denied' | 'unknown-database' | 'tls-required' | 'tls-unsupported' | 'other';

const MESSAGES: Record<ConnectFailure, (spec: ConnectionSpec) => [string, string]> = {
  'unknown-host': (s) => [`unknown host "${s.host}"`, 'Check the host name (DB_HOST / --db-host) and this machine\'s DNS.'],
  refused: (s) => [`connection refused by ${s.host}:${s.port}`, 'Is the server running, and listening on that port (DB_PORT / --db-port)?'],
  timeout: (s) => [`no answer from ${s.host}:${s.port} (timed out)`, 'Check firewalls and security groups between here and the server.'],
  auth: (s) => [`wrong user or password for "${s.user}"`, `Check ${credentialsSource(s)}, and the account's allowed hosts.`],
  // The password was right: the account may not use this database (MySQL 1044, PostgreSQL's CONNECT privilege).
  'database-denied': (s) => [`user "${s.user}" may not use database "${s.database}" (the login itself succeeded)`,
    `Grant it (MySQL: GRANT ALL ON \`${s.database}\`.* TO '${s.user}'@'%'; PostgreSQL: GRANT CONNECT ON DATABASE "${s.database}" TO "${s.user}"), or name a database it may use.`],
  'unknown-database': (s) => [`database "${s.database}" does not exist`, isUrlSource(s) ? `Check the database named in ${s.source}.` : 'Check OM_DATABASE / --database.'],
  'tls-required': () => ['the server requires an encrypted (TLS) connection', 'Set useSSL=true in DB_PARAMS (sslmode=require for PostgreSQL).'],
  'tls-unsupported': () => ['TLS was requested but the server does not offer it', 'Remove useSSL/sslmode from the connection parameters, or enable TLS on the server.'],
  other: () => ['could not connect', 'Run with --verbose for the driver\'s full error.'],
};

/** Configuration that came as a URL (admin URLs, Airflow's) names its own source; OpenMetadata's comes from DB_* names. */
function isUrlSource(spec: ConnectionSpec): boolean {
  return !['flags', 'environment'].includes(spec.source) && !/\.ya?ml$/.test(spec.source);
}

function credentialsSource(spec: ConnectionSpec): string {
  return isUrlSource(spec) ? `the user and password in ${spec.source}` : 'DB_USER and DB_USER_PASSWORD (or --db-user / --db-password-file)';
}

/** Turns a driver's connection error into one typed error with its own message per failure class. */
export function connectError(spec: ConnectionSpec, failure: ConnectFailure, cause: unknown): OmMigrateError {
  const [what, hint] = MESSAGES[failure](spec);
  const driverText = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  const message = failure === 'other' ? `${what}: ${driverText}` : what;
  return new OmMigrateError('CONNECT', `${describeSpec(spec)} (${spec.source}): ${message}`, {
    hint,
    cause,
    details: { failure, target: describeSpec(spec), driverMessage: redact(driverText, spec) },
  });
}

/** Driver messages sometimes quote the connection; never let a password through. */
export function redact(text: string, spec: ConnectionSpec): string {
  return spec.password ? text.split(spec.password).join('***') : text;
}

/** Codes shared by both drivers (Node's own socket errors). */
export function classifySocketError(error: { code?: string; message?: string }): ConnectFailure | undefined {
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'unknown-host';
    case 'ECONNREFUSED':
    case 'ENOENT': // a Unix socket path that does not exist
      return 'refused';
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return 'timeout';
    default:
      return /timeout|timed out/i.test(error.message ?? '') ? 'timeout' : undefined;
  }
}

/**
 * The database went away under a connection that was working: a restart, a failover, the network, a KILL. MySQL/MariaDB
 * 2006/2013 (gone away / lost during query), 1053 (shutdown), 4031 (MariaDB's idle disconnect), mysql2's
 * PROTOCOL_CONNECTION_LOST; PostgreSQL 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now) and 08xxx;
 * node-postgres' "Connection terminated"; socket resets; knex giving up on a connection it cannot re-open.
 */
export function isConnectionLoss(error: unknown): boolean {
  const e = error as { code?: string; errno?: number; message?: string; fatal?: boolean };
  if (!e || typeof e !== 'object') return false;
  if ([2006, 2013, 1053, 4031].includes(e.errno ?? 0)) return true;
  if (typeof e.code === 'string' && (/^57P0[123]$/.test(e.code) || /^08\d{3}$/.test(e.code)
    || ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN'].includes(e.code))) return true;
  return /Connection terminated|Connection lost|server closed the connection|Timeout acquiring a connection|terminating connection due to administrator command/i
    .test(e.message ?? '');
}
