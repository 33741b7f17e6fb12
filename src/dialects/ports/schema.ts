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
   * Other sessions running schema changes (ALTER, CREATE, DROP, RENAME, TRUNCATE) or task_instance's id UPDATE on
   * this database: a killed client's statement goes on on the server. Sessions of other users show only with the
   * privilege to see them (PROCESS; pg_read_all_stats).
   */
  activeDdl(): Promise<SessionInfo[]>;
}
