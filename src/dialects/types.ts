import type { Knex } from 'knex';
import type { ConnectionSpec, Engine } from '../config/ConnectionSpec.js';
import type { ToolInvocation } from '../process/ToolInvocation.js';

export type { ToolInvocation } from '../process/ToolInvocation.js';

export type Flavour = 'mysql' | 'mariadb' | 'postgres';

export interface ServerInfo {
  flavour: Flavour;
  /** "10.11.19", "8.0.36", "15.20" */
  version: string;
  /** The server's full version string, as it reports it. */
  versionText: string;
  /** "Aurora", "RDS", "Cloud SQL", "Azure" when the server reveals it. */
  managed: string | undefined;
  /** The lowest release om-migrate supports for this flavour. */
  floor: string;
  belowFloor: boolean;
}

export interface Privileges {
  /** MySQL family: SUPER (or SYSTEM_VARIABLES_ADMIN on MySQL 8) lets SET GLOBAL through. PostgreSQL: superuser. */
  canSetGlobal: boolean;
  /** MySQL family: SUPER, which also lets CREATE FUNCTION through while binary logging is on. */
  super: boolean;
  /** PostgreSQL: owner of the connected database (may ALTER DATABASE ... SET). */
  databaseOwner: boolean;
  superuser: boolean;
  /** The grants or role attributes as the server states them, for messages. */
  summary: string;
}

export interface ColumnInfo {
  name: string;
  /** Lower-case type as the server reports it: "varchar(36)", "uuid", "int". */
  type: string;
  nullable: boolean;
}

export interface IndexInfo {
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

export interface ForeignKeyInfo {
  name: string;
  table: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  /** "CASCADE", "NO ACTION", ... as for onDelete. */
  onUpdate: string;
}

/** Read-only questions about tables, keys and routines of the connected database. */
export interface SchemaIntrospector {
  tableExists(table: string): Promise<boolean>;
  columns(table: string): Promise<ColumnInfo[]>;
  indexes(table: string): Promise<IndexInfo[]>;
  /** Foreign keys declared on other tables that reference `table`. */
  foreignKeysReferencing(table: string): Promise<ForeignKeyInfo[]>;
  functionExists(name: string): Promise<boolean>;
  /** Bytes the database occupies (data and indexes), for the backup's free-space check. */
  databaseSizeBytes(): Promise<number>;
  /** Tables and views of the database (PostgreSQL: of every non-system schema); restore refuses a non-empty target. */
  relationNames(): Promise<string[]>;
}

export interface PipelineRun {
  entityFQNHash: string;
  pipelineName: string | undefined;
  runId: string;
  startDate: number | undefined;
  timestamp: number;
}

/** OpenMetadata's own tables. */
export interface OpenMetadataQueries {
  /** Every `version` of SERVER_CHANGE_LOG, or undefined if the table does not exist. */
  changeLogVersions(): Promise<string[] | undefined>;
  /** Pipeline status rows still `running` whose timestamp is older than `olderThan` (epoch ms). */
  staleRunningPipelines(olderThan: number): Promise<PipelineRun[]>;
  /**
   * Marks the runs staleRunningPipelines(olderThan) finds as `failed` with `endDate = now` (epoch ms), in one
   * transaction, and returns them as they were found. Every other row is left untouched.
   */
  failStaleRunningPipelines(olderThan: number, now: number): Promise<PipelineRun[]>;
}

export interface AirflowQueries {
  /** The row of alembic_version, undefined when the table is missing, null when it is empty. */
  revision(): Promise<string | null | undefined>;
  /** Count of task_instance ids whose last group is not 12 hex digits (apache/airflow#54554). */
  malformedIdCount(): Promise<number>;
}

/** A foreign key on (dag_id, task_id, run_id, map_index) that points at task_instance, as Airflow declares it. */
export interface TaskInstanceForeignKey {
  name: string;
  table: string;
  onUpdateCascade: boolean;
}

/** A column that holds task_instance.id values at some Airflow revision. */
export interface IdReference {
  table: string;
  column: string;
}

/**
 * The statements that bring task_instance back to revision 05234396c6fc (the repair-airflow command), rendered
 * exactly so that --dry-run can show them. Each method returns the statements of one repair action.
 */
export interface AirflowRepairSql {
  /** PostgreSQL drops the foreign keys built on task_instance_composite_key's index together with it. */
  readonly compositeKeyDropTakesForeignKeys: boolean;
  dropLeftoverFunction(): string[];
  truncateTaskInstance(dependantTables: string[]): string[];
  /** The composite primary key, replacing the one on id when there is one. */
  restoreCompositePrimaryKey(replaceIdPrimaryKey: boolean): string[];
  dropCompositeUniqueKey(): string[];
  dropIdColumn(): string[];
  createForeignKey(fk: TaskInstanceForeignKey): string[];
  stampRevision(revision: string): string[];
  /** Malformed ids (apache/airflow#54554) rewritten as UUIDv7 of the row's timestamp, and every reference with them. */
  rewriteMalformedIds(references: IdReference[]): string[];
  /** Runs statements in order on the pinned connection; all in one transaction when asked. */
  execute(statements: string[], options: { transaction: boolean }): Promise<void>;
}

/** Whoever holds the run lock, as far as the server can tell. */
export interface LockHolder {
  connectionId: string;
  /** "om-migrate pid=123 host=web-1", from the program/application name when the server keeps it. */
  program: string | undefined;
  clientAddress: string | undefined;
  since: string | undefined;
}

export interface AdvisoryLock {
  readonly name: string;
  /** Waits up to timeoutMs (0: answers at once). true when this session now holds it. */
  tryAcquire(timeoutMs: number): Promise<boolean>;
  release(): Promise<void>;
  /** Read-only: who holds it now, or undefined when it is free. */
  holder(): Promise<LockHolder | undefined>;
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

/** The state of one journaled parameter change. */
export type JournalStatus =
  /** Written before the change; the change may or may not have reached the server. */
  | 'pending'
  | 'applied'
  /** Restored and read back. */
  | 'reverted'
  /** The server refused the change: nothing changed. */
  | 'refused'
  /** Not put back because another run still needs the value; a later run or revert-params puts it back. */
  | 'deferred';

/** One row of om_migrate_journal: a parameter change, written before it is made. */
export interface JournalEntry {
  id: string;
  runId: string;
  /** The database whose journal holds the entry (the target the change was made for). */
  database: string;
  /** ParameterReader.serverIdentity() of the server changed. */
  server: string;
  parameter: ParameterChangePlan['parameter'];
  scope: ParameterScope;
  object: string | null;
  /** The exact previous value; null when no setting existed at that scope. */
  previous: string | null;
  next: string;
  applySql: string[];
  revertSql: string[];
  status: JournalStatus;
  /** Who made it: "om-migrate run pid=… host=… since=…". */
  holder: string;
  createdAt: string;
  updatedAt: string;
  note: string | null;
}

/** Where the journal lives: a table in the target database (or a local file when the table cannot be written). */
export interface JournalStore {
  /** "table om_migrate_journal in db", "file /root/.om-migrate/…": for messages. */
  readonly location: string;
  /** Creates the table if needed; throws when it cannot. */
  ensure(): Promise<void>;
  insert(entry: JournalEntry): Promise<void>;
  setStatus(id: string, status: JournalStatus, note?: string | null): Promise<void>;
  /** Entries not yet put back (pending, applied, deferred), oldest first. Empty when there is no journal yet. */
  unreverted(): Promise<JournalEntry[]>;
  /** Every entry of one run, oldest first. */
  ofRun(runId: string): Promise<JournalEntry[]>;
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

/** The row a lock holder writes so that a contender can name it (MariaDB keeps no program names without performance_schema). */
export interface RunHolderRow {
  lockName: string;
  connectionId: string;
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  command: string;
}

export interface RunRegistry {
  /** This session's id as the lock functions report it (CONNECTION_ID(), pg_backend_pid()). */
  connectionId(): Promise<string>;
  /** Records (replaces) the holder row of a lock; throws when the table cannot be written. */
  record(row: RunHolderRow): Promise<void>;
  remove(lockName: string, connectionId: string): Promise<void>;
  /** The holder row written by the session `connectionId` for `lockName`, if it wrote one. */
  find(lockName: string, connectionId: string): Promise<RunHolderRow | undefined>;
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

export interface Capabilities {
  /** PostgreSQL runs DDL inside transactions, so a failed Airflow migration leaves no partial state. */
  transactionalDdl: boolean;
  /** The name of the per-sort memory parameter the OpenMetadata docs ask to raise. */
  sortMemoryParameter: 'sort_buffer_size' | 'work_mem';
  /** Whether stored functions meet the binary-logging trust rule (log_bin_trust_function_creators). */
  functionCreationNeedsTrust: boolean;
}

/** One open, pinned connection to one database and everything engine-specific about it. */
export interface Dialect {
  readonly engine: Engine;
  readonly spec: ConnectionSpec;
  readonly capabilities: Capabilities;
  /** The single pinned connection; session state (SET, locks) lives on it. Used only inside src/dialects. */
  readonly knex: Knex;
  readonly introspect: SchemaIntrospector;
  readonly openmetadata: OpenMetadataQueries;
  readonly airflow: AirflowQueries;
  readonly airflowRepair: AirflowRepairSql;
  readonly params: ParameterReader;
  readonly dumpTool: DumpTooling;
  readonly ledger: LedgerStore;
  lock(name: string): AdvisoryLock;
  /** The parameter journal in this connection's database. */
  readonly journal: JournalStore;
  readonly coordination: ParameterCoordination;
  readonly runs: RunRegistry;
  serverInfo(): Promise<ServerInfo>;
  privileges(): Promise<Privileges>;
  close(): Promise<void>;
}

/** A dump tool found on PATH, and whether it can dump this server. */
export interface DumpToolCheck {
  /** "mariadb-dump", "mysqldump", "pg_dump" */
  name: string;
  path: string | undefined;
  version: string | undefined;
  /** Why it cannot be used (missing, too old for the server); undefined when it can. */
  problem: string | undefined;
  fix: string | undefined;
}


/** 'sql': text a client replays (MySQL family, may be compressed by us); 'custom': pg_dump -Fc, compressed itself. */
export type DumpFormat = 'sql' | 'custom';

/** The stock dump and restore tools of an engine. Every dump and restore flag lives behind this. */
export interface DumpTooling {
  readonly format: DumpFormat;
  locate(server: ServerInfo, env?: NodeJS.ProcessEnv): DumpToolCheck;
  /** The tool that reads this engine's dumps back: mariadb/mysql, pg_restore (next to pg_dump when it can). */
  locateRestore(server: ServerInfo, env?: NodeJS.ProcessEnv): DumpToolCheck;
  /** Dumps `spec.database` to standard output, consistently and without locking, routines/triggers/events included. */
  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo): ToolInvocation;
  /** Whether the last bytes of an (uncompressed) dump prove the tool finished it; true when the format cannot tell. */
  dumpCompleted(tail: string): boolean;
  /** Reads a finished archive's table of contents (pg_restore --list); undefined when the format has none. */
  listInvocation(tool: DumpToolCheck, file: string): ToolInvocation | undefined;
  /**
   * Restores into `spec.database`. `stdin` says whether the (decompressed) dump is fed on standard input (SQL) or
   * the tool opens `file` itself (custom archive). `replace` lets it drop what is already there.
   */
  restoreInvocation(spec: ConnectionSpec, tool: DumpToolCheck, file: string, options: { replace: boolean }):
    { invocation: ToolInvocation; stdin: boolean };
}

export interface LedgerEntry {
  id: number;
  step: string;
  targetVersion: string;
  runId: string;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  backupId: string | null;
  outputTail: string | null;
}

/** om_migrate_ledger: one row per step attempt, so an interrupted `up` resumes at the step that did not finish. */
export interface LedgerStore {
  ensureTable(): Promise<void>;
  exists(): Promise<boolean>;
  start(entry: { step: string; targetVersion: string; runId: string; backupId?: string | null }): Promise<number>;
  finish(id: number, status: 'done' | 'failed', outputTail: string | null, backupId?: string | null): Promise<void>;
  /**
   * Marks attempts still `running` that belong to other runs as `failed` with `note` as their output tail, and returns
   * how many. Only for a caller holding the run lock: no other run is alive, so those attempts were cut off (SIGKILL,
   * a crash) and will never finish.
   */
  abandon(exceptRunId: string, note: string): Promise<number>;
  /** Steps whose latest attempt for this target version finished. */
  done(targetVersion: string): Promise<LedgerEntry[]>;
  /** Forget that a step finished (Umzug's unlogMigration). */
  forget(step: string, targetVersion: string): Promise<void>;
  recent(limit: number): Promise<LedgerEntry[]>;
}
