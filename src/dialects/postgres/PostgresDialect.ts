import knexFactory, { Knex } from 'knex';
import { PostgresRowCounter } from './PostgresRowCounter.js';
import { PostgresScratch } from './PostgresScratch.js';
import { PostgresSwap } from './PostgresSwap.js';
import { PostgresSessions } from './PostgresSessions.js';
import { registerOwnSession, serverKey } from '../ownSessions.js';
import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { tlsRequested } from '../../config/ConnectionSpec.js';
import { connectError } from '../connectionErrors.js';
import { QUIET_KNEX_LOG } from '../quietKnexLog.js';
import type {
  AdvisoryLock, Capabilities, Dialect, DumpPrivilegeProblem, JournalStore, PrivilegeGap, PrivilegeNeed, Privileges, RoomExposure, ServerInfo,
} from '../types.js';
import { postgresDumpPrivilegeProblems } from './postgresDumpPrivileges.js';
import { postgresPrivilegeGaps } from './postgresPrivilegeGaps.js';
import { classifyPostgresError } from './classifyPostgresError.js';
import { PostgresAirflowQueries } from './PostgresAirflowQueries.js';
import { PostgresAirflowRepair } from './PostgresAirflowRepair.js';
import { PostgresIntrospector } from './PostgresIntrospector.js';
import { PostgresDumpTool } from './PostgresDumpTool.js';
import { LedgerTable } from '../stores/LedgerTable.js';
import { PostgresLock } from './PostgresLock.js';
import { PostgresOpenMetadataQueries } from './PostgresOpenMetadataQueries.js';
import { PostgresParameterReader, PostgresServerProbe } from './PostgresParameterReader.js';
import { OWN_SCHEMA } from '../tables.js';
import { JournalTable } from '../stores/JournalTable.js';
import { PostgresParameterCoordination } from './PostgresParameterCoordination.js';
import { postgresRoomExposure } from './postgresRoomExposure.js';
import { RunRegistryTable } from '../stores/RunRegistryTable.js';
import { rows } from './rows.js';

const FLOOR = '12';
/** The admin session resolves names in the catalog and its own temporary schema only (which holds no functions). */
const ADMIN_SEARCH_PATH = '-c search_path=pg_catalog,pg_temp';

/** The server's pid of the pinned connection (pg_backend_pid()), kept current by the pool's afterCreate. */
interface SessionRef { id?: number }

/** PostgreSQL 12+: one pinned pg connection through knex. */
export class PostgresDialect implements Dialect {
  readonly engine = 'postgres' as const;
  readonly capabilities: Capabilities = {
    transactionalDdl: true,
    sortMemoryParameter: 'work_mem',
    functionCreationNeedsTrust: false,
  };
  readonly introspect: PostgresIntrospector;
  readonly sessions: PostgresSessions;
  readonly rowCounts: PostgresRowCounter;
  readonly scratch: PostgresScratch;
  readonly swap: PostgresSwap;
  readonly openmetadata: PostgresOpenMetadataQueries;
  readonly airflow: PostgresAirflowQueries;
  readonly airflowRepair: PostgresAirflowRepair;
  readonly params: PostgresParameterReader;
  readonly journal: JournalTable;
  readonly probe: PostgresServerProbe;
  readonly coordination: PostgresParameterCoordination;
  readonly runs: RunRegistryTable;
  readonly dumpTool = new PostgresDumpTool();
  readonly ledger: LedgerTable;

  private constructor(readonly spec: ConnectionSpec, readonly knex: Knex, private readonly session: SessionRef,
    private readonly timeoutMs: number, private readonly program: string) {
    this.introspect = new PostgresIntrospector(knex);
    this.sessions = new PostgresSessions(knex, serverKey('postgres', spec.host, spec.port));
    this.rowCounts = new PostgresRowCounter(knex);
    this.scratch = new PostgresScratch(knex);
    this.swap = new PostgresSwap(knex);
    this.openmetadata = new PostgresOpenMetadataQueries(knex, this.introspect, () => this.cancelRunningStatement());
    this.airflow = new PostgresAirflowQueries(knex, this.introspect);
    this.airflowRepair = new PostgresAirflowRepair(knex, () => this.cancelRunningStatement());
    this.params = new PostgresParameterReader(knex);
    this.ledger = new LedgerTable(knex);
    this.journal = new JournalTable(knex, { database: spec.database });
    this.probe = new PostgresServerProbe(knex);
    this.coordination = new PostgresParameterCoordination(knex);
    this.runs = new RunRegistryTable(knex, 'pg_backend_pid()');
  }

  static async open(spec: ConnectionSpec, timeoutMs: number, program: string, room: 'application' | 'admin' = 'application'): Promise<PostgresDialect> {
    const sslmode = (spec.params.sslmode ?? '').toLowerCase();
    const session: SessionRef = {};
    // libpq's startup options, as SQLAlchemy passes ?options=-csearch_path%3Dairflow on: the same search_path makes
    // current_schema() the one Airflow uses, and om-migrate's own tables land there too. The admin's session gets
    // pg_catalog, pg_temp last (a later -c wins), whatever the URL or the database's and role's settings say.
    const options = [spec.params.options, room === 'admin' ? ADMIN_SEARCH_PATH : undefined].filter(Boolean).join(' ');
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
        ...(options ? { options } : {}),
      } as Knex.PgConnectionConfig,
      // One connection, kept: advisory locks are session-level, and idle_session_timeout (14+) or
      // idle_in_transaction_session_timeout set for the server or the role would end it during a long step.
      pool: {
        min: 1, max: 1, idleTimeoutMillis: 2 ** 31 - 1,
        afterCreate: (conn: { processID: number | null; query(sql: string, cb: (error: Error | null) => void): void }, done: (error: Error | null, conn: unknown) => void) => {
          session.id = conn.processID ?? undefined; // the pool replaces a dropped connection: always the live one's
          // Our own session, never "another session of the application's user" (ownSessions.ts).
          if (conn.processID !== null) registerOwnSession(serverKey('postgres', spec.host, spec.port), conn.processID);
          // Qualified: this runs before anything else, under whatever search_path the database's owner set.
          conn.query(`SELECT pg_catalog.set_config('idle_in_transaction_session_timeout', '0', false),
                             CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 140000
                                  THEN pg_catalog.set_config('idle_session_timeout', '0', false) END`, (error) => done(error, conn));
        },
      },
      acquireConnectionTimeout: timeoutMs + 1000,
    });
    try {
      await knex.raw('SELECT 1');
    } catch (error) {
      await knex.destroy().catch(() => undefined);
      throw connectError(spec, classifyPostgresError(error), error);
    }
    return new PostgresDialect(spec, knex, session, timeoutMs, program);
  }

  /**
   * Stops the statement this connection is running (pg_cancel_backend from a connection of its own: the pinned one is
   * busy; the same role may cancel its own backends), leaving the session and its advisory locks alive. The statement
   * fails with 57014 and its transaction is rolled back; an idle backend ignores the request.
   */
  async cancelRunningStatement(): Promise<void> {
    const id = this.session.id;
    if (id === undefined) return;
    const side = await PostgresDialect.open(this.spec, this.timeoutMs, this.program);
    try {
      await side.knex.raw('SELECT pg_cancel_backend(?)', [id]);
    } finally {
      await side.close();
    }
  }

  async serverStartedAt(): Promise<number> {
    const [row] = rows<{ t: string }>(await this.knex.raw('SELECT extract(epoch FROM pg_catalog.pg_postmaster_start_time()) AS t'));
    return Number(row.t);
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
      `SELECT r.rolsuper AS superuser, pg_catalog.pg_has_role(pg_catalog.current_user(), d.datdba, 'MEMBER') AS owner
         FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
        WHERE r.rolname = pg_catalog.current_user() AND d.datname = pg_catalog.current_database()`));
    return {
      super: row.superuser,
      canSetGlobal: row.superuser,
      databaseOwner: row.owner,
      superuser: row.superuser,
      summary: [row.superuser ? 'superuser' : 'not superuser', row.owner ? 'database owner' : 'not the database owner'].join(', '),
    };
  }

  missingPrivileges(needs: PrivilegeNeed[]): Promise<PrivilegeGap[]> {
    return postgresPrivilegeGaps(this.knex, needs);
  }

  dumpPrivilegeProblems(_server: ServerInfo): Promise<DumpPrivilegeProblem[]> {
    return postgresDumpPrivilegeProblems(this.knex);
  }

  /**
   * The schema om_migrate in the admin session's database, created by this connection and owned by it (or by a
   * superuser): a schema someone else made first, the application user say, is refused, because its owner could
   * rewrite what the admin will put back. exposureTo has proven before that the application role can neither create
   * objects in it nor write its table.
   */
  async ownJournal(): Promise<JournalStore> {
    await this.knex.raw(`CREATE SCHEMA IF NOT EXISTS ${OWN_SCHEMA}`);
    await this.knex.raw(`REVOKE ALL ON SCHEMA ${OWN_SCHEMA} FROM PUBLIC`);
    return (await this.existingOwnJournal())!;
  }

  async existingOwnJournal(): Promise<JournalStore | undefined> {
    const [row] = rows<{ owner: string; trusted: boolean; db: string }>(await this.knex.raw(
      `SELECT pg_catalog.pg_get_userbyid(n.nspowner) AS owner, pg_catalog.current_database() AS db,
              (n.nspowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = pg_catalog.current_user())
               OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE oid = n.nspowner)) AS trusted
         FROM pg_catalog.pg_namespace n WHERE n.nspname = ?`, [OWN_SCHEMA]));
    if (!row) return undefined;
    if (!row.trusted) {
      throw new Error(`schema ${OWN_SCHEMA} in ${row.db} is owned by ${row.owner}, not by ${this.spec.user}: whoever owns it could `
        + 'rewrite the journal the admin puts parameters back from');
    }
    return new JournalTable(this.knex, { schema: OWN_SCHEMA, database: row.db });
  }

  exposureTo(app: Dialect): Promise<RoomExposure> {
    return postgresRoomExposure(this.knex, app.knex);
  }

  lock(name: string): AdvisoryLock {
    return new PostgresLock(this.knex, name);
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}
