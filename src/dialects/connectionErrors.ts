import { ConnectionSpec, describeSpec } from '../config/ConnectionSpec.js';
import { OmMigrateError } from '../errors.js';

export type ConnectFailure = 'unknown-host' | 'refused' | 'timeout' | 'auth' | 'unknown-database' | 'tls-required' | 'tls-unsupported' | 'other';

const MESSAGES: Record<ConnectFailure, (spec: ConnectionSpec) => [string, string]> = {
  'unknown-host': (s) => [`unknown host "${s.host}"`, 'Check the host name (DB_HOST / --db-host) and this machine\'s DNS.'],
  refused: (s) => [`connection refused by ${s.host}:${s.port}`, 'Is the server running, and listening on that port (DB_PORT / --db-port)?'],
  timeout: (s) => [`no answer from ${s.host}:${s.port} (timed out)`, 'Check firewalls and security groups between here and the server.'],
  auth: (s) => [`wrong user or password for "${s.user}"`, `Check ${credentialsSource(s)}, and the account's allowed hosts.`],
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
