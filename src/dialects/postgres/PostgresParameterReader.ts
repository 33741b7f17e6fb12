import type { Knex } from 'knex';
import type { ParameterReader } from '../types.js';
import { pgMemoryToBytes } from './pgMemory.js';
import { rows } from './rows.js';

export class PostgresParameterReader implements ParameterReader {
  constructor(private readonly knex: Knex) {}

  /**
   * work_mem as a new session of `role` on `database` gets it: a setting for that role in that database wins, then
   * the role's, then the database's, then the server's (postgresql.conf / ALTER SYSTEM / built-in default).
   */
  async sortMemoryBytes(who?: { role: string; database: string }): Promise<number> {
    const [me] = rows<{ role: string; db: string }>(await this.knex.raw('SELECT current_user AS role, current_database() AS db'));
    const role = who?.role ?? me.role;
    const database = who?.database ?? me.db;
    const settings = rows<{ scope: 'both' | 'role' | 'database'; config: string[] }>(await this.knex.raw(
      `SELECT CASE WHEN s.setrole <> 0 AND s.setdatabase <> 0 THEN 'both' WHEN s.setrole <> 0 THEN 'role' ELSE 'database' END AS scope,
              s.setconfig AS config
         FROM pg_db_role_setting s
        WHERE (s.setrole = 0 OR s.setrole = (SELECT oid FROM pg_roles WHERE rolname = ?))
          AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = ?))`, [role, database]));
    for (const scope of ['both', 'role', 'database'] as const) {
      const value = settings.filter((s) => s.scope === scope).flatMap((s) => s.config)
        .find((c) => c.startsWith('work_mem='));
      if (value) return pgMemoryToBytes(value.slice('work_mem='.length));
    }
    return this.serverWorkMemBytes();
  }

  /** The server-wide value, whatever role or database settings this session itself started with. */
  async serverWorkMemBytes(): Promise<number> {
    const [s] = rows<{ source: string; reset_val: string; boot_val: string }>(await this.knex.raw(
      "SELECT source, reset_val, boot_val FROM pg_settings WHERE name = 'work_mem'"));
    if (s.source === 'default' || s.source === 'configuration file') return pgMemoryToBytes(s.reset_val);
    try {
      // Readable by superusers and pg_read_all_settings only.
      const file = rows<{ setting: string }>(await this.knex.raw(
        "SELECT setting FROM pg_file_settings WHERE name = 'work_mem' AND applied ORDER BY seqno DESC LIMIT 1"));
      if (file[0]) return pgMemoryToBytes(file[0].setting);
    } catch {
      // Not allowed: fall through to the built-in default.
    }
    return pgMemoryToBytes(s.boot_val);
  }

  async binaryLogging(): Promise<boolean> {
    return false;
  }

  async trustFunctionCreators(): Promise<boolean> {
    return true;
  }
}
