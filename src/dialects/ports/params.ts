/** The server parameters om-migrate ever changes; nothing else can be journaled, planned or put back. */
export type ParameterName = 'sort_buffer_size' | 'work_mem' | 'log_bin_trust_function_creators';

/** Where a parameter change lands: MySQL's GLOBAL, or PostgreSQL's database / role / system (ALTER SYSTEM). */
export type ParameterScope = 'global' | 'database' | 'role' | 'system';

/**
 * A parameter change as data: what, where, from what, to what. The statements that make it and undo it are built from
 * these values by the dialect, with quoting, only after they validate; no SQL is ever stored or read back from a table.
 */
export interface ParameterSetting {
  parameter: ParameterName;
  scope: ParameterScope;
  /** The database (database scope) or role (role scope) the setting is attached to; null otherwise. */
  object: string | null;
  /** The value before, exactly as the server stores it; null when no setting existed at that scope. */
  previous: string | null;
  next: string;
}

export interface ParameterReader {
  /**
   * The value new sessions of the migrating user get, in bytes (sort_buffer_size or work_mem). On PostgreSQL the role
   * and database default to the connection's own; pass them when reading through an admin connection.
   */
  sortMemoryBytes(who?: { role: string; database: string }): Promise<number>;
  /** @@log_bin (MySQL family); false on PostgreSQL. */
  binaryLogging(): Promise<boolean>;
  /** @@log_bin_trust_function_creators (MySQL family); true on PostgreSQL, where it does not apply. */
  trustFunctionCreators(): Promise<boolean>;
  /** Raising the sort memory to at least `bytes`; undefined when it is high enough already. Read-only. */
  planSortMemory(bytes: number, scope: ParameterScope, who: { role: string; database: string }): Promise<ParameterSetting | undefined>;
  /** Turning log_bin_trust_function_creators on; undefined when binary logging is off or trust is already on. */
  planTrustFunctionCreators(): Promise<ParameterSetting | undefined>;
  /**
   * Why a setting is not one om-migrate could have made on this engine (a parameter or scope outside the allow-list,
   * a value out of form or bounds), or undefined when it is. A journal row that does not pass is reported, never run.
   */
  validate(setting: ParameterSetting): string | undefined;
  /** The statements that make the change, built from the validated values (for the plan, the journal and messages). */
  applyStatements(setting: ParameterSetting): string[];
  /** The statements that put `previous` back (or remove the setting when there was none). */
  revertStatements(setting: ParameterSetting): string[];
  /** Validates, then runs applyStatements on this connection. */
  apply(setting: ParameterSetting): Promise<void>;
  /** Validates, then runs revertStatements on this connection. */
  revert(setting: ParameterSetting): Promise<void>;
  /**
   * The value stored now at the setting's scope, in the same form as `previous` (null: no setting exists at that
   * scope), so that a revert can be verified by comparing the two.
   */
  readBack(setting: { parameter: ParameterName; scope: ParameterScope; object?: string | null }): Promise<string | null>;
  /** Whether two stored values mean the same thing ("20MB" and "20480kB" on PostgreSQL, "1" and "ON" on MySQL). */
  sameValue(a: string | null, b: string | null): boolean;
  /**
   * The server refused the change for want of privilege, or will not allow it at all (MySQL/MariaDB 1227; PostgreSQL
   * 42501, and ALTER SYSTEM switched off by allow_alter_system on 17+): nothing changed.
   */
  isPrivilegeRefusal(error: unknown): boolean;
  /** Whether ALTER SYSTEM may be used at all (PostgreSQL 17's allow_alter_system = off forbids it); true on MySQL. */
  alterSystemAllowed(): Promise<boolean>;
  /** A name for the server itself, stable across restarts where the server offers one; for the journal's records. */
  serverIdentity(): Promise<string>;
}

/**
 * Proof that two connections reach the same server, whatever their host names say: one connection takes a marker (a
 * named lock, an advisory lock) that only a session of the same server can see held by it.
 */
export interface ServerProbe {
  /** Takes a marker on this connection; returns what another connection must see. */
  mark(): Promise<{ token: string; connectionId: string }>;
  /** Whether this connection sees the marker held by that session. */
  sees(marker: { token: string; connectionId: string }): Promise<boolean>;
  unmark(token: string): Promise<void>;
}

/**
 * Coordination between runs that share a server-wide value (MySQL GLOBAL, PostgreSQL role or system settings):
 * every run that needs the value holds a "need" on its pinned connection for as long as it runs, so the last run
 * out — and only it — puts the value back. Needs are session-bound, so a killed run's need vanishes with it.
 */
export interface ParameterCoordination {
  /** Registers this session's need for the value identified by `key` (idempotent). */
  holdNeed(key: string): Promise<void>;
  releaseNeed(key: string): Promise<void>;
  /** How many other sessions of this connection's account (PostgreSQL: or of a superuser) hold a need for `key`. */
  otherNeeds(key: string): Promise<number>;
  /**
   * Runs fn while holding the server's parameter mutex, so that "check needs, then revert" is not raced; a mutex held
   * by a session of another account is no om-migrate run's and is not waited for.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}
