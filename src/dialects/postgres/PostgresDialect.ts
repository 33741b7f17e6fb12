import knexFactory, { Knex } from 'knex';
import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { tlsRequested } from '../../config/ConnectionSpec.js';
import { connectError } from '../connectionErrors.js';
import { QUIET_KNEX_LOG } from '../quietKnexLog.js';
import type { AdvisoryLock, Capabilities, Dialect, Privileges, ServerInfo } from '../types.js';
import { classifyPostgresError } from './classifyPostgresError.js';
import { PostgresAirflowQueries } from './PostgresAirflowQueries.js';
import { PostgresAirflowRepair } from './PostgresAirflowRepair.js';
import { PostgresIntrospector } from './PostgresIntrospector.js';
import { PostgresDumpTool } from './PostgresDumpTool.js';
import { PostgresLedgerStore } from './PostgresLedgerStore.js';
import { PostgresLock } from './PostgresLock.js';
import { PostgresOpenMetadataQueries } from './PostgresOpenMetadataQueries.js';
import { PostgresParameterReader } from './PostgresParameterReader.js';
import { PostgresJournalStore } from './PostgresJournalStore.js';
import { PostgresParameterCoordination } from './PostgresParameterCoordination.js';
import { PostgresRunRegistry } from './PostgresRunRegistry.js';
import { rows } from './rows.js';

const FLOOR = '12';

/** PostgreSQL 12+: one pinned pg connection through knex. */
export class PostgresDialect implements Dialect {
  readonly engine = 'postgres' as const;
  readonly capabilities: Capabilities = {
    transactionalDdl: true,
    sortMemoryParameter: 'work_mem',
    functionCreationNeedsTrust: false,
  };
  readonly introspect: PostgresIntrospector;
  readonly openmetadata: PostgresOpenMetadataQueries;
  readonly airflow: PostgresAirflowQueries;
  readonly airflowRepair: PostgresAirflowRepair;
  readonly params: PostgresParameterReader;
  readonly journal: PostgresJournalStore;
  readonly coordination: PostgresParameterCoordination;
  readonly runs: PostgresRunRegistry;
  readonly dumpTool = new PostgresDumpTool();
  readonly ledger: PostgresLedgerStore;

  private constructor(readonly spec: ConnectionSpec, readonly knex: Knex) {
    this.introspect = new PostgresIntrospector(knex);
    this.openmetadata = new PostgresOpenMetadataQueries(knex, this.introspect);
    this.airflow = new PostgresAirflowQueries(knex, this.introspect);
    this.airflowRepair = new PostgresAirflowRepair(knex);
    this.params = new PostgresParameterReader(knex);
    this.ledger = new PostgresLedgerStore(knex, this.introspect);
    this.journal = new PostgresJournalStore(knex, this.introspect, spec.database);
    this.coordination = new PostgresParameterCoordination(knex);
    this.runs = new PostgresRunRegistry(knex, this.introspect);
  }

  static async open(spec: ConnectionSpec, timeoutMs: number, program: string): Promise<PostgresDialect> {
    const sslmode = (spec.params.sslmode ?? '').toLowerCase();
    const knex = knexFactory({
      client: 'pg',
      log: QUIET_KNEX_LOG,
      connection: {
        host: spec.host,
        port: spec.port,
        user: spec.user,
        password: spec.password,
        database: spec.database || 'postgres',
        ssl: tlsRequested(spec) ? { rejectUnauthorized: sslmode.startsWith('verify') } : false,
        connectionTimeoutMillis: timeoutMs,
        application_name: program.slice(0, 63),
      } as Knex.PgConnectionConfig,
      pool: { min: 1, max: 1, idleTimeoutMillis: 2 ** 31 - 1 },
      acquireConnectionTimeout: timeoutMs + 1000,
    });
    try {
      await knex.raw('SELECT 1');
    } catch (error) {
      await knex.destroy().catch(() => undefined);
      throw connectError(spec, classifyPostgresError(error), error);
    }
    return new PostgresDialect(spec, knex);
  }

  async serverInfo(): Promise<ServerInfo> {
    const [row] = rows<{ v: string; n: string }>(
      await this.knex.raw("SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n"));
    const num = Number(row.n);
    const major = Math.floor(num / 10000);
    const version = `${major}.${num % 10000}`;
    return {
      flavour: 'postgres',
      version,
      versionText: row.v,
      managed: await this.managedService(),
      floor: FLOOR,
      belowFloor: major < Number(FLOOR),
    };
  }

  /** Managed services reveal themselves through the roles they create. */
  private async managedService(): Promise<string | undefined> {
    try {
      await this.knex.raw('SELECT aurora_version()');
      return 'Aurora';
    } catch {
      // Not Aurora.
    }
    const found = rows<{ rolname: string }>(await this.knex.raw(
      "SELECT rolname FROM pg_roles WHERE rolname IN ('rds_superuser', 'cloudsqlsuperuser', 'azure_pg_admin')"));
    const names = new Set(found.map((r) => r.rolname));
    if (names.has('rds_superuser')) return 'RDS';
    if (names.has('cloudsqlsuperuser')) return 'Cloud SQL';
    if (names.has('azure_pg_admin')) return 'Azure';
    return undefined;
  }

  async privileges(): Promise<Privileges> {
    const [row] = rows<{ superuser: boolean; owner: boolean }>(await this.knex.raw(
      `SELECT r.rolsuper AS superuser, pg_has_role(current_user, d.datdba, 'MEMBER') AS owner
         FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`));
    return {
      super: row.superuser,
      canSetGlobal: row.superuser,
      databaseOwner: row.owner,
      superuser: row.superuser,
      summary: [row.superuser ? 'superuser' : 'not superuser', row.owner ? 'database owner' : 'not the database owner'].join(', '),
    };
  }

  lock(name: string): AdvisoryLock {
    return new PostgresLock(this.knex, name);
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}
