import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { ParameterCoordination } from '../types.js';
import { rows } from './rows.js';

const MUTEX_WAIT_MS = 60_000;
/** The lock's holder (pg_locks l) is a session of this connection's own role, or of a superuser. */
const TRUSTED_HOLDER = `EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
   WHERE a.pid = l.pid AND (r.rolname = pg_catalog.current_user() OR r.rolsuper))`;

/**
 * A need is a shared advisory lock; pg_locks shows every database's advisory locks, so runs connected to
 * different databases still count each other's needs. The mutex is an advisory lock too, and advisory locks are
 * per database: across databases "check, then revert" relies on the re-check the caller makes after reverting.
 * Any role may take any advisory key, and the keys are public: a need counts, and the mutex is waited for, only when
 * its holder's session is of this connection's own role or of a superuser (pg_stat_activity names every session's
 * role) — an application session holding the keys neither keeps a value raised nor holds a run up.
 */
export class PostgresParameterCoordination implements ParameterCoordination {
  private readonly held = new Set<string>();

  constructor(private readonly knex: Knex) {}

  async holdNeed(key: string): Promise<void> {
    if (this.held.has(key)) return;
    const lock = lockKey(`need:${key}`);
    const unsigned = BigInt.asUintN(64, lock);
    const deadline = Date.now() + MUTEX_WAIT_MS;
    for (;;) {
      // Never the blocking form: a session holding the key exclusively would hold this run forever.
      const [row] = rows<{ got: boolean; trusted: boolean }>(await this.knex.raw(
        `SELECT pg_catalog.pg_try_advisory_lock_shared(?::bigint) AS got,
                EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock'
                           AND l.objsubid = 1 AND l.classid = ?::oid AND l.objid = ?::oid AND l.pid <> pg_catalog.pg_backend_pid()
                           AND ${TRUSTED_HOLDER}) AS trusted`,
        [lock.toString(), (unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()]));
      if (row.got) break;
      // Held exclusively by a session of another, ordinary role: no om-migrate run's; the need goes unregistered.
      if (!row.trusted) return;
      if (Date.now() >= deadline) throw new Error(`another om-migrate session held the need ${key} exclusively for more than 60 s`);
      await sleep(100);
    }
    this.held.add(key);
  }

  async releaseNeed(key: string): Promise<void> {
    if (!this.held.has(key)) return;
    await this.knex.raw('SELECT pg_catalog.pg_advisory_unlock_shared(?::bigint)', [lockKey(`need:${key}`).toString()]);
    this.held.delete(key);
  }

  async otherNeeds(key: string): Promise<number> {
    const unsigned = BigInt.asUintN(64, lockKey(`need:${key}`));
    const [row] = rows<{ n: string | number }>(await this.knex.raw(
      `SELECT COUNT(DISTINCT l.pid) AS n FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = ?::oid AND l.objid = ?::oid
          AND l.pid <> pg_catalog.pg_backend_pid() AND ${TRUSTED_HOLDER}`, [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()]));
    return Number(row.n);
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const key = lockKey('om-migrate:params').toString();
    const deadline = Date.now() + MUTEX_WAIT_MS;
    const unsigned = BigInt.asUintN(64, BigInt(key));
    for (;;) {
      const [row] = rows<{ got: boolean; held: boolean; trusted: boolean }>(await this.knex.raw(
        `WITH holders AS (SELECT l.pid FROM pg_catalog.pg_locks l
                           WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = ?::oid AND l.objid = ?::oid
                             AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
                             AND l.pid <> pg_catalog.pg_backend_pid())
         SELECT pg_catalog.pg_try_advisory_lock(?::bigint) AS got, EXISTS (SELECT 1 FROM holders) AS held,
                EXISTS (SELECT 1 FROM holders l WHERE ${TRUSTED_HOLDER}) AS trusted`,
        [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString(), key]));
      if (row.got) break;
      // Held by a session of another, ordinary role: not an om-migrate run changing this value, nothing to wait for.
      if (row.held && !row.trusted) return fn();
      if (Date.now() >= deadline) throw new Error('another om-migrate held the parameter mutex for more than 60 s');
      await sleep(100);
    }
    try {
      return await fn();
    } finally {
      await this.knex.raw('SELECT pg_catalog.pg_advisory_unlock(?::bigint)', [key]).catch(() => undefined);
    }
  }
}

/** The advisory key of a need (`need:<key>`) or of the mutex (`om-migrate:params`); exported for the tests. */
export function lockKey(name: string): bigint {
  return createHash('sha256').update(`om-migrate:${name}`).digest().readBigInt64BE(0);
}
