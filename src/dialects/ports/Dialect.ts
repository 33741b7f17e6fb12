import type { Knex } from 'knex';
import type { ConnectionSpec, Engine } from '../../config/ConnectionSpec.js';
import type { AirflowQueries, AirflowRepairSql } from './airflow.js';
import type { DumpTooling } from './dump.js';
import type { JournalStore } from './journal.js';
import type { LedgerStore } from './ledger.js';
import type { AdvisoryLock, RunRegistry } from './lock.js';
import type { OpenMetadataQueries } from './openmetadata.js';
import type { ParameterCoordination, ParameterReader } from './params.js';
import type { SchemaIntrospector } from './schema.js';
import type { Capabilities, Privileges, ServerInfo } from './server.js';

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
