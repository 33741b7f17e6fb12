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
  /**
   * What raising the sort memory to at least `bytes` would run, and the exact statements that put the current state
   * back; undefined when the value is already high enough. Read-only.
   */
  planSortMemory(bytes: number, scope: ParameterScope, who: { role: string; database: string }): Promise<ParameterChangePlan | undefined>;
  /** Turning log_bin_trust_function_creators on; undefined when binary logging is off or trust is already on. */
  planTrustFunctionCreators(): Promise<ParameterChangePlan | undefined>;
  /** Runs a plan's apply or revert statements, in order, on this connection. */
  execute(statements: readonly string[]): Promise<void>;
  /**
   * The value stored now at the plan's scope, in the same form as `ParameterChangePlan.previous` (null: no setting
   * exists at that scope), so that a revert can be verified by comparing the two.
   */
  readBack(plan: Pick<ParameterChangePlan, 'parameter' | 'scope' | 'object'>): Promise<string | null>;
  /** Whether two stored values mean the same thing ("20MB" and "20480kB" on PostgreSQL, "1" and "ON" on MySQL). */
  sameValue(a: string | null, b: string | null): boolean;
  /** The server refused the change for want of privilege (MySQL/MariaDB 1227, PostgreSQL 42501). */
  isPrivilegeRefusal(error: unknown): boolean;
  /** A name for the server itself, the same through every connection to it (app user or admin). */
  serverIdentity(): Promise<string>;
}

/** Where a parameter change lands: MySQL's GLOBAL, or PostgreSQL's database / role / system (ALTER SYSTEM). */
export type ParameterScope = 'global' | 'database' | 'role' | 'system';

export interface ParameterChangePlan {
  parameter: 'sort_buffer_size' | 'work_mem' | 'log_bin_trust_function_creators';
  scope: ParameterScope;
  /** Database or role the setting is attached to (PostgreSQL database/role scope). */
  object?: string;
  /** The value before, exactly as the server stores it; null when no setting existed at that scope. */
  previous: string | null;
  next: string;
  apply: string[];
  revert: string[];
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
  /** How many other sessions on the server hold a need for `key`. */
  otherNeeds(key: string): Promise<number>;
  /** Runs fn while holding the server's parameter mutex, so that "check needs, then revert" is not raced. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}
