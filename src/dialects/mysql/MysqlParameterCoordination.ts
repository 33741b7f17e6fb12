import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ParameterCoordination } from '../types.js';
import { rows } from './rows.js';

/** How many runs at once may need one server-wide value; GET_LOCK is exclusive, so each run takes a free slot. */
const SLOTS = 32;
const MUTEX = 'om-migrate:params';
const MUTEX_WAIT_S = 60;

/**
 * GET_LOCK names are server-wide and die with their session: a need is a lock on one of SLOTS names derived from
 * the value's key, and counting the other needs is IS_USED_LOCK over those names — no privilege needed.
 */
export class MysqlParameterCoordination implements ParameterCoordination {
  private readonly held = new Map<string, string>();

  constructor(private readonly knex: Knex) {}

  async holdNeed(key: string): Promise<void> {
    if (this.held.has(key)) return;
    for (const name of slotNames(key)) {
      const [row] = rows<{ got: number | null }>(await this.knex.raw('SELECT GET_LOCK(?, 0) AS got', [name]));
      if (Number(row.got) === 1) {
        this.held.set(key, name);
        return;
      }
    }
    throw new Error(`all ${SLOTS} need slots for ${key} are taken`);
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
    return names.filter((_, i) => row[`s${i}`] !== null && String(row[`s${i}`]) !== me).length;
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const [row] = rows<{ got: number | null }>(await this.knex.raw('SELECT GET_LOCK(?, ?) AS got', [MUTEX, MUTEX_WAIT_S]));
    if (Number(row.got) !== 1) throw new Error(`another om-migrate held ${MUTEX} for more than ${MUTEX_WAIT_S} s`);
    try {
      return await fn();
    } finally {
      await this.knex.raw('SELECT RELEASE_LOCK(?)', [MUTEX]).catch(() => undefined);
    }
  }
}

function slotNames(key: string): string[] {
  const h = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return Array.from({ length: SLOTS }, (_, i) => `om-migrate:need:${h}:${i}`);
}
