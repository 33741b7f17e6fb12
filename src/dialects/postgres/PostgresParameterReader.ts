import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import type { ParameterName, ParameterReader, ParameterScope, ParameterSetting, ServerProbe } from '../types.js';
import { bytesToPgMemory, pgMemoryToBytes } from './pgMemory.js';
import { rows } from './rows.js';

export class PostgresParameterReader implements ParameterReader {
  constructor(private readonly knex: Knex) {}

  /**
   * work_mem as a new session of `role` on `database` gets it: a setting for that role in that database wins, then
   * the role's, then the database's, then the server's (postgresql.conf / ALTER SYSTEM / built-in default).
   */
  async sortMemoryBytes(who?: { role: string; database: string }): Promise<number> {
    const [me] = rows<{ role: string; db: string }>(await this.knex.raw('SELECT pg_catalog.current_user() AS role, pg_catalog.current_database() AS db'));
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
      // Readable by superusers only (pg_read_all_settings is not enough: denied on 12, 16 and 18, docs/facts/servers.md).
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
  async planSortMemory(bytes: number, scope: ParameterScope, who: { role: string; database: string }): Promise<ParameterSetting | undefined> {
    if ((await this.sortMemoryBytes(who)) >= bytes) return undefined;
    const next = bytesToPgMemory(bytes);
    const object = scope === 'system' ? null : scope === 'role' ? who.role : who.database;
    const previous = scope === 'system' ? await this.autoConfWorkMem() : await this.scopedWorkMem(scope === 'role' ? 'role' : 'database', who);
    // A setting at this scope that is high enough already (another scope's lower one wins for these sessions) is left
    // alone: om-migrate raises, it never lowers what a DBA set.
    if (previous !== null && pgMemoryToBytes(previous) >= bytes) return undefined;
    return { parameter: 'work_mem', scope, object, previous, next };
  }

  async planTrustFunctionCreators(): Promise<ParameterSetting | undefined> {
    return undefined;
  }

  validate(s: ParameterSetting): string | undefined {
    if (s.parameter !== 'work_mem') return `${s.parameter} is not a parameter om-migrate changes on PostgreSQL`;
    if (s.scope === 'system') {
      if (s.object !== null) return 'a system-wide work_mem is attached to no database or role';
    } else if (s.scope === 'database' || s.scope === 'role') {
      if (!s.object || Buffer.byteLength(s.object) > 63) return `work_mem at ${s.scope} scope needs a ${s.scope} name of 1 to 63 bytes`;
    } else {
      return `PostgreSQL has no ${s.scope} scope`;
    }
    for (const [what, value] of [['previous', s.previous], ['new', s.next]] as const) {
      if (value === null && what === 'previous') continue;
      if (value === null || !validWorkMem(value)) return `${what} work_mem "${value}" is not a memory value from 64kB to 2147483647kB`;
    }
    // om-migrate only ever raises work_mem at a scope, so putting a change back only ever lowers or removes it.
    if (s.previous !== null && pgMemoryToBytes(s.next) <= pgMemoryToBytes(s.previous)) {
      return `om-migrate only raises work_mem: ${s.previous} → ${s.next} is not a change it makes`;
    }
    return undefined;
  }

  applyStatements(s: ParameterSetting): string[] {
    return this.statements(s, s.next);
  }

  revertStatements(s: ParameterSetting): string[] {
    return this.statements(s, s.previous);
  }

  async apply(s: ParameterSetting): Promise<void> {
    for (const statement of this.applyStatements(this.checked(s))) await this.knex.raw(statement);
  }

  async revert(s: ParameterSetting): Promise<void> {
    for (const statement of this.revertStatements(this.checked(s))) await this.knex.raw(statement);
  }

  async readBack(s: { parameter: ParameterName; scope: ParameterScope; object?: string | null }): Promise<string | null> {
    if (s.parameter !== 'work_mem') throw new Error(`PostgreSQL has no ${s.parameter}`);
    if (s.scope === 'system') return this.autoConfWorkMem();
    if (s.scope !== 'role' && s.scope !== 'database') throw new Error(`PostgreSQL has no ${s.scope} scope`);
    const object = s.object ?? '';
    return this.scopedWorkMem(s.scope, { role: object, database: object });
  }

  sameValue(a: string | null, b: string | null): boolean {
    if (a === null || b === null) return a === b;
    try {
      return pgMemoryToBytes(a) === pgMemoryToBytes(b);
    } catch {
      return a === b;
    }
  }

  /** allow_alter_system exists from PostgreSQL 17; missing_ok reads NULL on older servers, where it is always allowed. */
  async alterSystemAllowed(): Promise<boolean> {
    const [row] = rows<{ v: string | null }>(await this.knex.raw("SELECT pg_catalog.current_setting('allow_alter_system', true) AS v"));
    return row.v !== 'off';
  }

  isPrivilegeRefusal(error: unknown): boolean {
    const e = error as { code?: string; message?: string };
    // 42501 insufficient_privilege ("must be owner of", "permission denied"); 0A000 with PostgreSQL 17's
    // allow_alter_system = off: ALTER SYSTEM is not allowed at all. Either way nothing changed.
    return e.code === '42501' || (e.code === '0A000' && /ALTER SYSTEM/i.test(e.message ?? ''));
  }

  /** The cluster's system identifier when readable; the address the server answers on otherwise. */
  async serverIdentity(): Promise<string> {
    try {
      const [row] = rows<{ id: string }>(await this.knex.raw('SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()'));
      return `postgres://system/${row.id}`;
    } catch {
      const [row] = rows<{ a: string | null; p: number | null }>(
        await this.knex.raw('SELECT pg_catalog.inet_server_addr()::text AS a, pg_catalog.inet_server_port() AS p'));
      return `postgres://${row.a ?? 'local'}:${row.p ?? 0}`;
    }
  }

  private checked(s: ParameterSetting): ParameterSetting {
    const problem = this.validate(s);
    if (problem) throw new Error(`refusing to change ${s.parameter}: ${problem}`);
    return s;
  }

  /** Built from the validated setting: the object quoted as an identifier, the value as a literal. */
  private statements(s: ParameterSetting, value: string | null): string[] {
    if (s.scope === 'system') {
      return [value === null ? 'ALTER SYSTEM RESET work_mem' : `ALTER SYSTEM SET work_mem = ${quoteLiteral(value)}`, 'SELECT pg_catalog.pg_reload_conf()'];
    }
    const target = `${s.scope === 'role' ? 'ROLE' : 'DATABASE'} ${quoteIdent(s.object as string)}`;
    return [value === null ? `ALTER ${target} RESET work_mem` : `ALTER ${target} SET work_mem = ${quoteLiteral(value)}`];
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

const WORK_MEM_MIN_KB = 64;
const WORK_MEM_MAX_KB = 2147483647;

function validWorkMem(value: string): boolean {
  if (!/^\d{1,13}\s*(kB|MB|GB|TB)?$/.test(value.trim())) return false;
  const kb = pgMemoryToBytes(value) / 1024;
  return kb >= WORK_MEM_MIN_KB && kb <= WORK_MEM_MAX_KB;
}

/** Advisory locks are visible in pg_locks from every database of the cluster, with the pid that holds them. */
export class PostgresServerProbe implements ServerProbe {
  constructor(private readonly knex: Knex) {}

  async mark(): Promise<{ token: string; connectionId: string }> {
    const token = BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)).toString();
    const [row] = rows<{ pid: number }>(await this.knex.raw('SELECT pg_catalog.pg_advisory_lock(?::bigint), pg_catalog.pg_backend_pid() AS pid', [token]));
    return { token, connectionId: String(row.pid) };
  }

  async sees(marker: { token: string; connectionId: string }): Promise<boolean> {
    const key = BigInt.asUintN(64, BigInt(marker.token));
    const found = rows(await this.knex.raw(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = ?::oid AND objid = ?::oid AND pid = ?`,
      [(key >> 32n).toString(), (key & 0xffffffffn).toString(), Number(marker.connectionId)]));
    return found.length > 0;
  }

  async unmark(token: string): Promise<void> {
    await this.knex.raw('SELECT pg_catalog.pg_advisory_unlock(?::bigint)', [token]);
  }
}
