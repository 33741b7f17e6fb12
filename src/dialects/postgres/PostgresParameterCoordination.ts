import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { ParameterCoordination } from '../types.js';
import { rows } from './rows.js';

const MUTEX_WAIT_MS = 60_000;

/**
 * A need is a shared advisory lock; pg_locks shows every database's advisory locks, so runs connected to
 * different databases still count each other's needs. The mutex is an advisory lock too, and advisory locks are
 * per database: across databases "check, then revert" relies on the re-check the caller makes after reverting.
 */
export class PostgresParameterCoordination implements ParameterCoordination {
  private readonly held = new Set<string>();

  constructor(private readonly knex: Knex) {}

  async holdNeed(key: string): Promise<void> {
    if (this.held.has(key)) return;
    await this.knex.raw('SELECT pg_catalog.pg_advisory_lock_shared(?::bigint)', [lockKey(`need:${key}`).toString()]);
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
      `SELECT COUNT(DISTINCT pid) AS n FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = ?::oid AND objid = ?::oid
          AND pid <> pg_catalog.pg_backend_pid()`, [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()]));
    return Number(row.n);
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const key = lockKey('om-migrate:params').toString();
    const deadline = Date.now() + MUTEX_WAIT_MS;
    for (;;) {
      const [row] = rows<{ got: boolean }>(await this.knex.raw('SELECT pg_catalog.pg_try_advisory_lock(?::bigint) AS got', [key]));
      if (row.got) break;
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

function lockKey(name: string): bigint {
  return createHash('sha256').update(`om-migrate:${name}`).digest().readBigInt64BE(0);
}
