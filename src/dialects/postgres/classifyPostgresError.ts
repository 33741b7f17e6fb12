import { ConnectFailure, classifySocketError } from '../connectionErrors.js';

/** PostgreSQL connection errors, by SQLSTATE where there is one. */
export function classifyPostgresError(error: unknown): ConnectFailure {
  const e = error as { code?: string; message?: string };
  const socket = classifySocketError(e);
  if (socket) return socket;
  const message = e.message ?? '';
  switch (e.code) {
    case '28P01': // invalid_password
      return 'auth';
    case '28000': // invalid_authorization_specification: pg_hba.conf refused; "no encryption" means TLS is required
      return /no encryption|SSL off/i.test(message) ? 'tls-required' : 'auth';
    case '42501': // insufficient_privilege at connection: "permission denied for database", no CONNECT privilege
      return 'database-denied';
    case '3D000': // invalid_catalog_name
      return 'unknown-database';
    default:
      break;
  }
  if (/does not support SSL/i.test(message)) return 'tls-unsupported';
  if (/connection timeout|timeout expired/i.test(message)) return 'timeout';
  return 'other';
}
