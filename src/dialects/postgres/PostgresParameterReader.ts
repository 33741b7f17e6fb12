import type { Knex } from 'knex';
import type { ParameterChangePlan, ParameterReader, ParameterScope } from '../types.js';
import { bytesToPgMemory, pgMemoryToBytes } from './pgMemory.js';
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

  /**
   * work_mem for the migrator's future sessions: ALTER DATABASE (the owner may), ALTER ROLE, or ALTER SYSTEM with a
   * reload (superuser). The revert puts back the exact previous setting at that scope, or RESETs it if there was none.
   */
  async planSortMemory(bytes: number, scope: ParameterScope, who: { role: string; database: string }): Promise<ParameterChangePlan | undefined> {
    if ((await this.sortMemoryBytes(who)) >= bytes) return undefined;
    const next = bytesToPgMemory(bytes);
    if (scope === 'system') {
      const previous = await this.autoConfWorkMem();
      return {
        parameter: 'work_mem', scope, previous, next,
        apply: [`ALTER SYSTEM SET work_mem = '${next}'`, 'SELECT pg_reload_conf()'],
        revert: [previous === null ? 'ALTER SYSTEM RESET work_mem' : `ALTER SYSTEM SET work_mem = ${quoteLiteral(previous)}`, 'SELECT pg_reload_conf()'],
      };
    }
    const target = scope === 'role' ? `ROLE ${quoteIdent(who.role)}` : `DATABASE ${quoteIdent(who.database)}`;
    const previous = await this.scopedWorkMem(scope === 'role' ? 'role' : 'database', who);
    return {
      parameter: 'work_mem', scope, object: scope === 'role' ? who.role : who.database, previous, next,
      apply: [`ALTER ${target} SET work_mem = '${next}'`],
      revert: [previous === null ? `ALTER ${target} RESET work_mem` : `ALTER ${target} SET work_mem = ${quoteLiteral(previous)}`],
    };
  }

  async planTrustFunctionCreators(): Promise<ParameterChangePlan | undefined> {
    return undefined;
  }

  async execute(statements: readonly string[]): Promise<void> {
    for (const statement of statements) await this.knex.raw(statement);
  }

  async readBack(plan: Pick<ParameterChangePlan, 'parameter' | 'scope' | 'object'>): Promise<string | null> {
    if (plan.parameter !== 'work_mem') throw new Error(`PostgreSQL has no ${plan.parameter}`);
    if (plan.scope === 'system') return this.autoConfWorkMem();
    if (plan.scope !== 'role' && plan.scope !== 'database') throw new Error(`PostgreSQL has no ${plan.scope} scope`);
    const object = plan.object ?? '';
    return this.scopedWorkMem(plan.scope, { role: object, database: object });
  }

  sameValue(a: string | null, b: string | null): boolean {
    if (a === null || b === null) return a === b;
    try {
      return pgMemoryToBytes(a) === pgMemoryToBytes(b);
    } catch {
      return a === b;
    }
  }

  isPrivilegeRefusal(error: unknown): boolean {
    return (error as { code?: string }).code === '42501'; // insufficient_privilege: "must be owner of", "permission denied"
  }

  /** The cluster's system identifier when readable; the address the server answers on otherwise. */
  async serverIdentity(): Promise<string> {
    try {
      const [row] = rows<{ id: string }>(await this.knex.raw('SELECT system_identifier::text AS id FROM pg_control_system()'));
      return `postgres://system/${row.id}`;
    } catch {
      const [row] = rows<{ a: string | null; p: number | null }>(
        await this.knex.raw('SELECT inet_server_addr()::text AS a, inet_server_port() AS p'));
      return `postgres://${row.a ?? 'local'}:${row.p ?? 0}`;
    }
  }

  /** The work_mem setting stored for exactly this role (all databases) or this database (all roles), or null. */
  private async scopedWorkMem(scope: 'role' | 'database', who: { role: string; database: string }): Promise<string | null> {
    const found = rows<{ config: string[] }>(await this.knex.raw(
      scope === 'role'
        ? 'SELECT setconfig AS config FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = (SELECT oid FROM pg_roles WHERE rolname = ?)'
        : 'SELECT setconfig AS config FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = ?)',
      [scope === 'role' ? who.role : who.database]));
    const entry = found.flatMap((r) => r.config).find((c) => c.startsWith('work_mem='));
    return entry === undefined ? null : entry.slice('work_mem='.length);
  }

  /** The work_mem line of postgresql.auto.conf (what ALTER SYSTEM wrote before), or null. Superuser only. */
  private async autoConfWorkMem(): Promise<string | null> {
    const found = rows<{ setting: string }>(await this.knex.raw(
      "SELECT setting FROM pg_file_settings WHERE name = 'work_mem' AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1"));
    return found[0]?.setting ?? null;
  }

  async binaryLogging(): Promise<boolean> {
    return false;
  }

  async trustFunctionCreators(): Promise<boolean> {
    return true;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
