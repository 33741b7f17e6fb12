import type { Knex } from 'knex';
import type { AdvisoryLock, LockHolder } from '../types.js';
import { rows } from './rows.js';

/**
 * GET_LOCK is server-wide and belongs to the session: it is freed the moment the holder's connection dies, so a
 * killed run never leaves it stuck. The name carries the database so two installs on one server do not collide.
 */
export class MysqlLock implements AdvisoryLock {
  constructor(private readonly knex: Knex, readonly name: string) {}

  async tryAcquire(timeoutMs: number): Promise<boolean> {
    const [row] = rows<{ got: number | null }>(
      await this.knex.raw('SELECT GET_LOCK(?, ?) AS got', [this.name, Math.max(0, timeoutMs) / 1000]));
    return Number(row.got) === 1;
  }

  async release(): Promise<void> {
    await this.knex.raw('SELECT RELEASE_LOCK(?)', [this.name]);
  }

  async heldBy(connectionId: string): Promise<boolean> {
    const [row] = rows<{ me: string | number; holder: string | number | null }>(
      await this.knex.raw('SELECT CONNECTION_ID() AS me, IS_USED_LOCK(?) AS holder', [this.name]));
    return String(row.me) === connectionId && row.holder !== null && String(row.holder) === connectionId;
  }

  async holder(): Promise<LockHolder | undefined> {
    const [used] = rows<{ id: string | number | null }>(await this.knex.raw('SELECT IS_USED_LOCK(?) AS id', [this.name]));
    if (used.id === null || used.id === undefined) return undefined;
    const connectionId = String(used.id);
    // PROCESSLIST shows other users' sessions only with the PROCESS privilege; without it we still know the id.
    const [process] = rows<{ host: string; time: number; info: string | null }>(await this.knex.raw(
      'SELECT HOST AS host, TIME AS time, LEFT(INFO, 200) AS info FROM information_schema.PROCESSLIST WHERE ID = ?', [connectionId]));
    return {
      connectionId,
      program: await this.programName(connectionId),
      clientAddress: process?.host,
      since: process ? new Date(Date.now() - Number(process.time) * 1000).toISOString() : undefined,
      statement: process?.info ?? undefined,
      endSession: `KILL ${Number(connectionId)}`,
    };
  }

  /** The program_name connection attribute; performance_schema may be off (MariaDB's default), then unknown. */
  private async programName(connectionId: string): Promise<string | undefined> {
    try {
      const [attr] = rows<{ v: string }>(await this.knex.raw(
        `SELECT ATTR_VALUE AS v FROM performance_schema.session_connect_attrs
          WHERE PROCESSLIST_ID = ? AND ATTR_NAME = 'program_name'`, [connectionId]));
      return attr?.v;
    } catch {
      return undefined;
    }
  }
}
