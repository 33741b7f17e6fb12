import type { ConnectionSpec, TargetRole } from '../config/ConnectionSpec.js';
import type { OmMigrateError } from '../errors.js';
import type { Dialect, Privileges, ServerInfo } from '../dialects/types.js';

/** A database the run touches, connected. */
export interface ConnectedTarget {
  role: TargetRole;
  spec: ConnectionSpec;
  dialect: Dialect;
  server: ServerInfo;
  privileges: Privileges;
}

/** A configured database that could not be reached, with the classified error. */
export interface TargetFailure {
  role: TargetRole;
  spec: ConnectionSpec;
  error: OmMigrateError;
}

/** Every configured database, connected or not, and the admin connections opened for them on demand. */
export interface OpenedTargets {
  targets: ConnectedTarget[];
  failures: TargetFailure[];
  adminFor(target: ConnectedTarget): Promise<Dialect | undefined>;
  close(): Promise<void>;
}

export interface VersionFacts {
  /** undefined when there is no OpenMetadata database in this run. */
  openmetadata?: {
    /** Highest version in SERVER_CHANGE_LOG compared numerically; undefined for a fresh install. */
    current: string | undefined;
    tableExists: boolean;
    rowCount: number;
    /** The versions that count as applied (from 2.1: the COMPLETED rows), as SERVER_CHANGE_LOG spells them. */
    recorded: string[];
    /** Rows of a 2.1 history whose status is STARTED or FAILED: they do not count, and the migrator runs them again. */
    unfinished: Array<{ version: string; status: string }>;
  };
  /** undefined when there is no Airflow database in this run. */
  airflow?: {
    /** alembic_version's row; undefined when the table is missing, null when empty. */
    revision: string | null | undefined;
    /** The FAB provider's own alembic_version_fab row, read the same way (docs/facts/airflow.md, "The FAB provider"). */
    fabRevision?: string | null | undefined;
  };
}
