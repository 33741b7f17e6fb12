import type { ForeignKeyInfo, SessionInfo } from './schema.js';

export interface AirflowQueries {
  /**
   * MySQL: the Python program that asks Airflow's driver, in the migrator's interpreter and environment, how it
   * connects (driver, client library, server reached, multi-statements); undefined where the URL says it all.
   */
  readonly driverProbeScript: string | undefined;
  /** The row of alembic_version, undefined when the table is missing, null when it is empty. */
  revision(): Promise<string | null | undefined>;
  /** The row of the FAB provider's alembic_version_fab, read as revision() reads alembic_version. */
  fabRevision(): Promise<string | null | undefined>;
  /**
   * The statements that give a foreign key the name the FAB provider's 02ca36b0235b drops it by, keeping what it
   * references, for the operator to run (apache/airflow#65402).
   */
  renameForeignKeyStatements(fk: ForeignKeyInfo, name: string): string[];
  /** Count of task_instance ids whose last group is not 12 hex digits (apache/airflow#54554). */
  malformedIdCount(): Promise<number>;
  /**
   * The session holding Airflow's own migration lock, which `airflow db migrate` holds for the whole migration
   * (MySQL GET_LOCK('airflow_MIGRATIONS'), PostgreSQL pg_advisory_lock(1) in this database: docs/facts/airflow.md).
   * `database` (default: the connected one) lets an admin connection to another database look.
   */
  migrationLockHolder(database?: string): Promise<SessionInfo | undefined>;
  /**
   * Rows of `table` whose (dag_id, task_id, run_id, map_index) has all four values and matches no task_instance: the
   * rows d59cbbef95eb's foreign key on that table refuses (1452 / ForeignKeyViolation). Read-only.
   */
  /**
   * A uuid_generate_v7 that d59cbbef95eb would meet in the current schema: MySQL's of any signature (MySQL has no
   * overloading, and the migration's DROP FUNCTION IF EXISTS takes it); on PostgreSQL only
   * `uuid_generate_v7(timestamp with time zone)`, never another function of that name (pg_uuidv7's). Whether it is
   * Airflow's leftover is for the caller to prove (detectAirflowState).
   */
  leftoverFunctionExists(): Promise<boolean>;
  /** MySQL: that function has Airflow's signature (p_timestamp DATETIME(3) → CHAR(36)). PostgreSQL: the lookup above is by it. */
  functionHasAirflowSignature(): Promise<boolean>;
  /** PostgreSQL: the schema of the pgcrypto extension d59cbbef95eb installs when it may; undefined when absent (MySQL). */
  pgcryptoSchema(): Promise<string | undefined>;
  orphanCount(table: string): Promise<number>;
  /** The exact read-only statement that lists those rows, for the operator to run. */
  orphanListQuery(table: string): string;
  /** Keys (dag_id, task_id, run_id, map_index) held by more than one task_instance row, and how many rows hold them. */
  duplicateKeyCount(): Promise<{ keys: number; rows: number }>;
  /** The exact read-only statement that lists the duplicated keys with their counts. */
  duplicateListQuery(): string;
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
  /** Deletes the rows of `table` that orphanCount counts (--delete-orphans), one statement. */
  deleteOrphans(table: string): string[];
  truncateTaskInstance(dependantTables: string[]): string[];
  /** The composite primary key, replacing the one on id when there is one. */
  restoreCompositePrimaryKey(replaceIdPrimaryKey: boolean): string[];
  dropCompositeUniqueKey(): string[];
  dropIdColumn(): string[];
  createForeignKey(fk: TaskInstanceForeignKey): string[];
  stampRevision(revision: string): string[];
  /** Malformed ids (apache/airflow#54554) rewritten as UUIDv7 of the row's timestamp, and every reference with them. */
  rewriteMalformedIds(references: IdReference[]): string[];
  /**
   * Runs statements in order on the pinned connection; all in one transaction when asked. Aborting `signal` cancels
   * the running statement on the server (a transaction is rolled back) and starts no other.
   */
  execute(statements: string[], options: { transaction: boolean; signal?: AbortSignal }): Promise<void>;
}
