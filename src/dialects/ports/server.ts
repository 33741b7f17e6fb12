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

export interface Capabilities {
  /** PostgreSQL runs DDL inside transactions, so a failed Airflow migration leaves no partial state. */
  transactionalDdl: boolean;
  /** The name of the per-sort memory parameter the OpenMetadata docs ask to raise. */
  sortMemoryParameter: 'sort_buffer_size' | 'work_mem';
  /** Whether stored functions meet the binary-logging trust rule (log_bin_trust_function_creators). */
  functionCreationNeedsTrust: boolean;
}
