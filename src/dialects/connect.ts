import { hostname } from 'node:os';
import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import type { Dialect } from './types.js';

export interface ConnectOptions {
  /** Give up on an unreachable server after this long. */
  timeoutMs?: number;
  /** What the server shows as the client's program: it names the lock holder to a second run. */
  purpose?: string;
  /**
   * 'admin': a privileged session that must read or run nothing the application user could have shaped. MySQL: no
   * default database (unqualified names resolve nowhere); PostgreSQL: search_path fixed to pg_catalog, pg_temp in the
   * start-up packet, which beats any ALTER DATABASE/ROLE … SET search_path, so no function or operator of someone
   * else's schema can stand in for a catalog one. Which database it connects to is the caller's (adminSpecFor).
   */
  room?: 'application' | 'admin';
}

/** The name the server shows for our sessions: enough for an operator to find the process that holds a lock. */
export function programName(purpose = 'run'): string {
  return `om-migrate ${purpose} pid=${process.pid} host=${hostname()} since=${new Date().toISOString()}`;
}

/**
 * Opens one pinned connection. knex and the drivers are imported only here, on demand, so that commands that
 * never touch a database (`--version`, `--help`) start as fast as bare Node.
 */
export async function connect(spec: ConnectionSpec, options: ConnectOptions = {}): Promise<Dialect> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const program = programName(options.purpose);
  if (spec.engine === 'mysql') {
    const { MysqlDialect } = await import('./mysql/MysqlDialect.js');
    return MysqlDialect.open(spec, timeoutMs, program, options.room ?? 'application');
  }
  const { PostgresDialect } = await import('./postgres/PostgresDialect.js');
  return PostgresDialect.open(spec, timeoutMs, program, options.room ?? 'application');
}
