import type { Knex } from 'knex';
import type { ConnectionSpec, Engine } from '../../config/ConnectionSpec.js';
import type { AirflowQueries, AirflowRepairSql } from './airflow.js';
import type { DumpPrivilegeProblem, DumpTooling } from './dump.js';
import type { JournalStore } from './journal.js';
import type { LedgerStore } from './ledger.js';
import type { AdvisoryLock, RunRegistry } from './lock.js';
import type { OpenMetadataQueries } from './openmetadata.js';
import type { PrivilegeGap, PrivilegeNeed } from './privileges.js';
import type { ParameterCoordination, ParameterReader, ServerProbe } from './params.js';
import type { RoomExposure } from './room.js';
import type { RowCounter, SchemaIntrospector, ScratchDatabases } from './schema.js';
import type { SessionLister } from './sessions.js';
import type { DatabaseSwap } from './swap.js';
import type { Capabilities, Privileges, ServerInfo } from './server.js';

/** One open, pinned connection to one database and everything engine-specific about it. */
export interface Dialect {
  readonly engine: Engine;
  readonly spec: ConnectionSpec;
  readonly capabilities: Capabilities;
  /** The single pinned connection; session state (SET, locks) lives on it. Used only inside src/dialects. */
  readonly knex: Knex;
  readonly introspect: SchemaIntrospector;
  /** Who else is connected (other sessions of a user on this database). */
  readonly sessions: SessionLister;
  readonly rowCounts: RowCounter;
  /** Scratch databases on this server (the rehearsal's copy): only through a connection allowed to create them. */
  readonly scratch: ScratchDatabases;
  /** Swapping a restored copy in for a live database (restore-on-failure): only through a connection allowed to. */
  readonly swap: DatabaseSwap;
  readonly openmetadata: OpenMetadataQueries;
  readonly airflow: AirflowQueries;
  readonly airflowRepair: AirflowRepairSql;
  readonly params: ParameterReader;
  readonly dumpTool: DumpTooling;
  readonly ledger: LedgerStore;
  lock(name: string): AdvisoryLock;
  /** The parameter journal in this connection's database: for changes made through this (application) connection. */
  readonly journal: JournalStore;
  /**
   * The journal of changes made through this connection as the admin: in a schema of om-migrate's own (MySQL: the
   * database om_migrate; PostgreSQL: the schema om_migrate) that this connection creates and must own, so that the
   * application user cannot write what the admin will put back. Throws when the location exists but is not ours.
   */
  ownJournal(): Promise<JournalStore>;
  /** The same location, read-only: undefined when it does not exist; throws when it is not ours. */
  existingOwnJournal(): Promise<JournalStore | undefined>;
  /**
   * Asked of an admin connection about an application connection of the same server: what that application account
   * could shape of this session's room (its database, om-migrate's own journal location). Read-only.
   */
  exposureTo(app: Dialect): Promise<RoomExposure>;
  /** Proves that another connection reaches the same server (the admin URL against its target). */
  readonly probe: ServerProbe;
  readonly coordination: ParameterCoordination;
  readonly runs: RunRegistry;
  serverInfo(): Promise<ServerInfo>;
  /** When the server last started (seconds since the epoch, to a second or two): a change means it restarted. */
  serverStartedAt(): Promise<number>;
  /**
   * Stops the statement this connection is running now, from a session of its own (KILL QUERY / pg_cancel_backend),
   * leaving the session and its locks alive; does nothing when it runs none. For an interruption to reach SQL that
   * waits for a lock.
   */
  cancelRunningStatement(): Promise<void>;
  privileges(): Promise<Privileges>;
  /** What this connection's user lacks for the statements `needs` describe (read-only; empty when nothing). */
  missingPrivileges(needs: PrivilegeNeed[]): Promise<PrivilegeGap[]>;
  /** What this connection's user lacks for the dump the backup runs (read-only; empty when nothing); `jobs` > 1: the parallel dump's. */
  dumpPrivilegeProblems(server: ServerInfo, options?: { jobs?: number }): Promise<DumpPrivilegeProblem[]>;
  close(): Promise<void>;
}
