import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ParameterCoordination } from '../types.js';
import { rows } from './rows.js';

/** How many runs at once may need one server-wide value; GET_LOCK is exclusive, so each run takes a free slot. */
const SLOTS = 32;
export const MUTEX = 'om-migrate:params';
const MUTEX_WAIT_S = 60;

/**
 * GET_LOCK names are server-wide and die with their session: a need is a lock on one of SLOTS names derived from
 * the value's key, and counting the other needs is IS_USED_LOCK over those names. Any session of any account may take
 * any name, so a name alone proves nothing: a need counts, and the mutex is waited for, only when its holder is a
 * session of this connection's own account (the admin's, which changes the value) — an application session holding
 * these names neither keeps a value raised nor holds a run up. information_schema.PROCESSLIST shows a session's
 * account; without PROCESS it shows only the account's own sessions, which are exactly the ones that count.
 */
export class MysqlParameterCoordination implements ParameterCoordination {
  private readonly held = new Map<string, string>();

  constructor(private readonly knex: Knex) {}

  async holdNeed(key: string): Promise<void> {
    if (this.held.has(key)) return;
    const holders: string[] = [];
    for (const name of slotNames(key)) {
      const [row] = rows<{ got: number | null; holder: string | number | null }>(await this.knex.raw(
        'SELECT GET_LOCK(?, 0) AS got, IS_USED_LOCK(?) AS holder', [name, name]));
      if (Number(row.got) === 1) {
        this.held.set(key, name);
        return;
      }
      if (row.holder !== null) holders.push(String(row.holder));
    }
    // Slots taken by sessions of other accounts are no om-migrate run's: this run's need goes unregistered rather than
    // let them stop it (only another run of this account, changing the value too, could then revert it early).
    if ((await this.ownAccountSessions(holders)).length < SLOTS) return;
    throw new Error(`all ${SLOTS} need slots for ${key} are taken by other om-migrate runs`);
  }

  async releaseNeed(key: string): Promise<void> {
    const name = this.held.get(key);
    if (name === undefined) return;
    await this.knex.raw('SELECT RELEASE_LOCK(?)', [name]);
    this.held.delete(key);
  }

  async otherNeeds(key: string): Promise<number> {
    const names = slotNames(key);
    const [row] = rows<Record<string, string | number | null>>(await this.knex.raw(
      `SELECT CONNECTION_ID() AS me, ${names.map((_, i) => `IS_USED_LOCK(?) AS s${i}`).join(', ')}`, names));
    const me = String(row.me);
    const holders = names.map((_, i) => row[`s${i}`]).filter((id) => id !== null && String(id) !== me).map(String);
    return (await this.ownAccountSessions(holders)).length;
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + MUTEX_WAIT_S * 1000;
    for (;;) {
      const [row] = rows<{ got: number | null; holder: string | number | null }>(await this.knex.raw(
        'SELECT GET_LOCK(?, 1) AS got, IS_USED_LOCK(?) AS holder', [MUTEX, MUTEX]));
      if (Number(row.got) === 1) break;
      // Held by a session of another account: not an om-migrate run changing this value, nothing to wait for.
      if (row.holder !== null && (await this.ownAccountSessions([String(row.holder)])).length === 0) return fn();
      if (Date.now() >= deadline) throw new Error(`another om-migrate held ${MUTEX} for more than ${MUTEX_WAIT_S} s`);
    }
    try {
      return await fn();
    } finally {
      await this.knex.raw('SELECT RELEASE_LOCK(?)', [MUTEX]).catch(() => undefined);
    }
  }

  /** Those of the sessions `ids` that belong to this connection's own account. */
  private async ownAccountSessions(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const found = rows<{ id: string | number }>(await this.knex.raw(
      `SELECT ID AS id FROM information_schema.PROCESSLIST
        WHERE ID IN (${ids.map(() => '?').join(', ')}) AND USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)`, ids));
    return found.map((r) => String(r.id));
  }
}

/** The GET_LOCK names of a value's needs (exported for the tests that take them from another session). */
export function slotNames(key: string): string[] {
  const h = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return Array.from({ length: SLOTS }, (_, i) => `om-migrate:need:${h}:${i}`);
}
