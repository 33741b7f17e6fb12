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

/** Another session on the server, as far as this user may see it. */
export interface SessionInfo {
  connectionId: string;
  user: string | undefined;
  client: string | undefined;
  /** How long its current statement has run. */
  seconds: number | undefined;
  /** Its statement, cut short; undefined when this user may not see it. */
  statement: string | undefined;
}

export interface SessionVisibility {
  /** Every session's statement is visible to this connection. */
  complete: boolean;
  /** When not: what it lacks ("no PROCESS privilege"). */
  lacking?: string;
  /** Sessions of other accounts on the database whose statements are hidden, when the server shows that they exist. */
  hiddenSessions?: number;
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
  /**
   * Indexes the server marks INVALID in the current schema: what an interrupted CREATE INDEX CONCURRENTLY leaves behind
   * (PostgreSQL); MySQL has no such state and answers [].
   */
  invalidIndexes(): Promise<Array<{ name: string; table: string }>>;
  /**
   * The statements that recover from one such index as OpenMetadata's runbook in 1.13.0/postgres/schemaChanges.sql has
   * it: drop it concurrently, then forget the logged statement that built it, so that the migrator builds it again.
   */
  invalidIndexRecovery(name: string): string[];
  /**
   * Other sessions running schema changes (ALTER, CREATE, DROP, RENAME, TRUNCATE) or task_instance's id UPDATE on
   * `database` (default: the connected one): a killed client's statement goes on on the server. Sessions of other users
   * show only with the privilege to see them (PROCESS; pg_read_all_stats): see sessionVisibility.
   */
  activeDdl(database?: string): Promise<SessionInfo[]>;
  /** Whether this connection sees every session's statement on `database` (default: the connected one), and if not, why. */
  sessionVisibility(database?: string): Promise<SessionVisibility>;
}

/** One table's row count: exact (COUNT(*)), or the server's estimate when the table is huge or counting ran out of time. */
export interface RowCount {
  table: string;
  rows: number;
  exact: boolean;
  /** Why an estimate stands in: "over 5000000 rows (estimate)", "count timed out after 10 s". */
  note?: string;
}

export interface RowCountOptions {
  /** Tables the server estimates above this many rows are not counted: their estimate is reported, marked. */
  exactUpTo: number;
  /** Each exact count is cut off after this long (then the estimate is used). */
  timeoutMs: number;
}

/** Row counts of tables of the connected database (current schema), for the before/after comparison of a run. */
export interface RowCounter {
  /** The tables of the connected database (current schema only), as their names are spelled there. */
  tableNames(): Promise<string[]>;
  countRows(tables: string[], options: RowCountOptions): Promise<RowCount[]>;
}

/**
 * Scratch databases on the connected server (the rehearsal's copy), made and removed through this connection. Names
 * are chosen by the caller and validated here ([a-z0-9_] only), so they never need quoting beyond the identifier's.
 */
export interface ScratchDatabases {
  /** This connection's account as the server names it (MySQL 'user@host', PostgreSQL the role): who the copy is for. */
  account(): Promise<string>;
  /** Whether this connection may create and drop databases; `summary` says which privilege is missing. */
  canCreate(account?: string): Promise<{ ok: boolean; summary: string }>;
  /** Creates `name` and gives `user` (an application user of the same server) all privileges on it / ownership. */
  create(name: string, account: string, like?: string): Promise<void>;
  /** Drops `name` (sessions on it are ended first where the engine allows) and takes back what `create` granted. */
  drop(name: string): Promise<void>;
  /** Databases whose names start with `prefix`, exactly. */
  list(prefix: string): Promise<string[]>;
}
