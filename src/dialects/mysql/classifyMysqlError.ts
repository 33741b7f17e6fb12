import { ConnectFailure, classifySocketError } from '../connectionErrors.js';

/** MySQL and MariaDB connection errors, by server error number where there is one. */
export function classifyMysqlError(error: unknown): ConnectFailure {
  const e = error as { code?: string; errno?: number; message?: string };
  const socket = classifySocketError(e);
  if (socket) return socket;
  switch (e.errno) {
    case 1044: // ER_DBACCESS_DENIED_ERROR: the login succeeded, the user may not use this database
      return 'database-denied';
    case 1045: // ER_ACCESS_DENIED_ERROR
    case 1698: // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return /SSL|secure/i.test(e.message ?? '') ? 'tls-required' : 'auth';
    case 1049: // ER_BAD_DB_ERROR
      return 'unknown-database';
    case 3159: // ER_SECURE_TRANSPORT_REQUIRED (MySQL 8)
    case 4143: // MariaDB's require_secure_transport refusal
      return 'tls-required';
    default:
      break;
  }
  if (/secure transport|requires? (SSL|TLS)/i.test(e.message ?? '')) return 'tls-required';
  if (/server does not support secure connection|HANDSHAKE_NO_SSL_SUPPORT/i.test(`${e.code} ${e.message}`)) return 'tls-unsupported';
  return 'other';
}
