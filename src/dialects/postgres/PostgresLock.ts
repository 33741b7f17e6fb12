import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { AdvisoryLock, LockHolder } from '../types.js';
import { rows } from './rows.js';

/**
 * A session-level advisory lock on a 64-bit key derived from the name. PostgreSQL scopes advisory locks to the
 * database, and frees them when the holding backend ends, so a killed run never leaves one behind.
 */
export class PostgresLock implements AdvisoryLock {
  private readonly key: bigint;

  constructor(private readonly knex: Knex, readonly name: string) {
    this.key = createHash('sha256').update(name).digest().readBigInt64BE(0);
  }

  async tryAcquire(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const [row] = rows<{ got: boolean }>(await this.knex.raw('SELECT pg_try_advisory_lock(?::bigint) AS got', [this.key.toString()]));
      if (row.got) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())));
    }
  }

  async release(): Promise<void> {
    await this.knex.raw('SELECT pg_advisory_unlock(?::bigint)', [this.key.toString()]);
  }

  async heldBy(connectionId: string): Promise<boolean> {
    const unsigned = BigInt.asUintN(64, this.key);
    const [row] = rows<{ me: number; held: boolean }>(await this.knex.raw(
      `SELECT pg_backend_pid() AS me, EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND pid = pg_backend_pid() AND classid = ?::oid AND objid = ?::oid) AS held`,
      [(unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()]));
    return String(row.me) === connectionId && row.held;
  }

  async holder(): Promise<LockHolder | undefined> {
    // A bigint key is stored as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
    const unsigned = BigInt.asUintN(64, this.key);
    const classid = (unsigned >> 32n).toString();
    const objid = (unsigned & 0xffffffffn).toString();
    const [row] = rows<{ pid: number; app: string | null; addr: string | null; since: Date | string | null; running: string | null }>(await this.knex.raw(
      `SELECT l.pid, a.application_name AS app, a.client_addr::text AS addr, a.backend_start AS since,
              CASE WHEN a.state = 'active' THEN left(a.query, 200) END AS running
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ?::oid AND l.objid = ?::oid`, [classid, objid]));
    if (!row) return undefined;
    return {
      connectionId: String(row.pid),
      program: row.app || undefined,
      clientAddress: row.addr ?? undefined,
      since: row.since ? new Date(row.since).toISOString() : undefined,
      statement: row.running ?? undefined,
      endSession: `SELECT pg_terminate_backend(${Number(row.pid)})`,
    };
  }
}
