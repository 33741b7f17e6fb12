import semver from 'semver';
import knexFactory, { Knex } from 'knex';
import { MysqlRowCounter } from './MysqlRowCounter.js';
import { MysqlScratch } from './MysqlScratch.js';
import { MysqlSwap } from './MysqlSwap.js';
import { MysqlSessions } from './MysqlSessions.js';
import { registerOwnSession, serverKey } from '../ownSessions.js';
import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { tlsRequested } from '../../config/ConnectionSpec.js';
import { connectError } from '../connectionErrors.js';
import { QUIET_KNEX_LOG } from '../quietKnexLog.js';
import type {
  AdvisoryLock, Capabilities, Dialect, DumpPrivilegeProblem, JournalStore, PrivilegeGap, PrivilegeNeed, Privileges, RoomExposure, ServerInfo,
} from '../types.js';
import { mysqlDumpPrivilegeProblems } from './mysqlDumpPrivileges.js';
import { mysqlPrivilegeGaps } from './mysqlPrivilegeGaps.js';
import { classifyMysqlError } from './classifyMysqlError.js';
import { MysqlAirflowQueries } from './MysqlAirflowQueries.js';
import { MysqlAirflowRepair } from './MysqlAirflowRepair.js';
import { MysqlIntrospector } from './MysqlIntrospector.js';
import { MysqlDumpTool } from './MysqlDumpTool.js';
import { LedgerTable } from '../stores/LedgerTable.js';
import { MysqlLock } from './MysqlLock.js';
import { MysqlOpenMetadataQueries } from './MysqlOpenMetadataQueries.js';
import { MysqlParameterReader, MysqlServerProbe } from './MysqlParameterReader.js';
import { OWN_SCHEMA } from '../tables.js';
import { JournalTable } from '../stores/JournalTable.js';
import { mysqlRoomExposure } from './mysqlRoomExposure.js';
import { MysqlParameterCoordination } from './MysqlParameterCoordination.js';
import { RunRegistryTable } from '../stores/RunRegistryTable.js';
import { rows } from './rows.js';

const FLOORS = { mysql: '8.0.0', mariadb: '10.6.0' } as const;

/** The server's id of the pinned connection (CONNECTION_ID()), kept current by the pool's afterCreate. */
interface SessionRef { id?: number }

/** MySQL 8 and MariaDB: one pinned mysql2 connection through knex. */
export class MysqlDialect implements Dialect {
  readonly engine = 'mysql' as const;
  readonly capabilities: Capabilities = {
    transactionalDdl: false,
    sortMemoryParameter: 'sort_buffer_size',
    functionCreationNeedsTrust: true,
  };
  readonly introspect: MysqlIntrospector;
  readonly sessions: MysqlSessions;
  readonly rowCounts: MysqlRowCounter;
  readonly scratch: MysqlScratch;
  readonly swap: MysqlSwap;
  readonly openmetadata: MysqlOpenMetadataQueries;
  readonly airflow: MysqlAirflowQueries;
  readonly airflowRepair: MysqlAirflowRepair;
  readonly params: MysqlParameterReader;
  readonly journal: JournalTable;
  readonly probe: MysqlServerProbe;
  readonly coordination: MysqlParameterCoordination;
  readonly runs: RunRegistryTable;
  readonly dumpTool = new MysqlDumpTool();
  readonly ledger: LedgerTable;

  private constructor(readonly spec: ConnectionSpec, readonly knex: Knex, private readonly session: SessionRef,
    private readonly timeoutMs: number, private readonly program: string) {
    this.introspect = new MysqlIntrospector(knex);
    this.sessions = new MysqlSessions(knex, serverKey('mysql', spec.host, spec.port));
    this.rowCounts = new MysqlRowCounter(knex);
    this.scratch = new MysqlScratch(knex);
    this.swap = new MysqlSwap(knex);
    this.openmetadata = new MysqlOpenMetadataQueries(knex, this.introspect, () => this.cancelRunningStatement());
    this.airflow = new MysqlAirflowQueries(knex, this.introspect);
    this.airflowRepair = new MysqlAirflowRepair(knex, () => this.cancelRunningStatement());
    this.params = new MysqlParameterReader(knex);
    this.ledger = new LedgerTable(knex);
    this.journal = new JournalTable(knex, { database: spec.database });
    this.probe = new MysqlServerProbe(knex);
    this.coordination = new MysqlParameterCoordination(knex);
    this.runs = new RunRegistryTable(knex, 'CONNECTION_ID()');
  }

  static async open(spec: ConnectionSpec, timeoutMs: number, program: string, room: 'application' | 'admin' = 'application'): Promise<MysqlDialect> {
    const socketPath = spec.host.startsWith('/') ? spec.host : undefined;
    const session: SessionRef = {};
    const knex = knexFactory({
      client: 'mysql2',
      log: QUIET_KNEX_LOG,
      connection: {
        host: socketPath ? undefined : spec.host,
        port: spec.port,
        socketPath,
        user: spec.user,
        password: spec.password,
        // The admin's session has no default database: nothing it runs can resolve to a table, view or routine of a
        // database the application user may write; om-migrate's own journal is always named with its database.
        database: room === 'admin' ? undefined : spec.database || undefined,
        connectTimeout: timeoutMs,
        charset: 'utf8mb4',
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        multipleStatements: false,
        ssl: tlsRequested(spec) ? { rejectUnauthorized: /verify/i.test(spec.params.sslMode ?? spec.params.sslmode ?? '') } : undefined,
        connectAttributes: { program_name: program },
      } as Knex.MySql2ConnectionConfig,
      // One connection, always the same one: GET_LOCK and SET SESSION live on it. The server must not drop it for
      // idleness while a migrator runs for hours (wait_timeout is often minutes on managed services): the run lock
      // and the parameter needs live and die with this session.
      pool: {
        min: 1, max: 1, idleTimeoutMillis: 2 ** 31 - 1,
        afterCreate: (conn: { threadId: number; query(sql: string, cb: (error: Error | null) => void): void }, done: (error: Error | null, conn: unknown) => void) => {
          session.id = conn.threadId; // the pool replaces a dropped connection: always the live one's
          // Our own session, never "another session of the application's user" (ownSessions.ts).
          registerOwnSession(serverKey('mysql', spec.host, spec.port), conn.threadId);
          conn.query('SET SESSION wait_timeout = 31536000', (error) => done(error, conn));
        },
      },
      acquireConnectionTimeout: timeoutMs + 1000,
    });
    try {
      await knex.raw('SELECT 1');
    } catch (error) {
      await knex.destroy().catch(() => undefined);
      throw connectError(spec, classifyMysqlError(error), error);
    }
    return new MysqlDialect(spec, knex, session, timeoutMs, program);
  }

  /**
   * Stops the statement this connection is running (KILL QUERY from a connection of its own: the pinned one is busy),
   * leaving the session, its locks and SET SESSION values alive. The statement fails with 1317; one that just ended is
   * not affected, nor is the next one (KILL QUERY on an idle session does nothing).
   */
  async cancelRunningStatement(): Promise<void> {
    const id = this.session.id;
    if (id === undefined) return;
    const side = await MysqlDialect.open(this.spec, this.timeoutMs, this.program);
    try {
      await side.knex.raw(`KILL QUERY ${Number(id)}`).catch((error: { errno?: number }) => {
        if (error.errno !== 1094) throw error; // unknown thread: that session is gone already
      });
    } finally {
      await side.close();
    }
  }

  async serverStartedAt(): Promise<number> {
    // SHOW STATUS needs no privilege and exists on MySQL 8 and MariaDB alike (information_schema.GLOBAL_STATUS does not).
    const [status] = rows<{ Value: string }>(await this.knex.raw("SHOW GLOBAL STATUS LIKE 'Uptime'"));
    const [now] = rows<{ t: string }>(await this.knex.raw('SELECT UNIX_TIMESTAMP() AS t'));
    return Number(now.t) - Number(status.Value);
  }

  async serverInfo(): Promise<ServerInfo> {
    const [row] = rows<{ v: string; c: string; b: string }>(
      await this.knex.raw('SELECT VERSION() AS v, @@version_comment AS c, @@basedir AS b'),
    );
    const flavour = /mariadb/i.test(row.v) || /mariadb/i.test(row.c) ? 'mariadb' : 'mysql';
    const version = /^(\d+\.\d+\.\d+)/.exec(row.v)?.[1] ?? row.v;
    return {
      flavour,
      version,
      versionText: `${row.v} (${row.c})`,
      managed: await this.managedService(row.b, row.c),
      floor: FLOORS[flavour],
      belowFloor: semver.lt(semver.coerce(version) ?? '0.0.0', FLOORS[flavour]),
    };
  }

  private async managedService(basedir: string, comment: string): Promise<string | undefined> {
    try {
      await this.knex.raw('SELECT AURORA_VERSION()');
      return 'Aurora';
    } catch {
      // Not Aurora: the function exists only there.
    }
    if (/^\/rdsdbbin\//.test(basedir)) return 'RDS';
    if (/google/i.test(comment)) return 'Cloud SQL';
    if (/azure/i.test(comment)) return 'Azure';
    return undefined;
  }

  async privileges(): Promise<Privileges> {
    const grants = rows<Record<string, string>>(await this.knex.raw('SHOW GRANTS')).map((r) => Object.values(r)[0]);
    const global = grants.filter((g) => /\bON \*\.\*/i.test(g)).map((g) => g.replace(/\bON \*\.\*.*$/is, ''));
    const all = global.some((g) => /ALL PRIVILEGES/i.test(g));
    const has = (name: string) => all || global.some((g) => new RegExp(`\\b${name}\\b`, 'i').test(g));
    const superPriv = has('SUPER');
    return {
      super: superPriv,
      canSetGlobal: superPriv || has('SYSTEM_VARIABLES_ADMIN'),
      databaseOwner: false,
      superuser: superPriv,
      summary: global.join('; ') || 'no global privileges',
    };
  }

  async missingPrivileges(needs: PrivilegeNeed[]): Promise<PrivilegeGap[]> {
    const [row] = rows<{ v: string; c: string }>(await this.knex.raw('SELECT VERSION() AS v, @@version_comment AS c'));
    const flavour = /mariadb/i.test(row.v) || /mariadb/i.test(row.c) ? 'mariadb' : 'mysql';
    return mysqlPrivilegeGaps(this.knex, this.spec.database, flavour, needs);
  }

  dumpPrivilegeProblems(server: ServerInfo, options: { jobs?: number } = {}): Promise<DumpPrivilegeProblem[]> {
    return mysqlDumpPrivilegeProblems(this.knex, this.spec.database, server, options.jobs ?? 1);
  }

  /**
   * A database of om-migrate's own. MySQL has no owners: its trust rests on exposureTo, which the admin connection
   * passes before this is ever called (no application grant reaches it, it holds nothing om-migrate did not create).
   */
  async ownJournal(): Promise<JournalStore> {
    await this.knex.raw(`CREATE DATABASE IF NOT EXISTS ${OWN_SCHEMA} CHARACTER SET utf8mb4`);
    return new JournalTable(this.knex, { schema: OWN_SCHEMA, database: this.spec.database });
  }

  async existingOwnJournal(): Promise<JournalStore | undefined> {
    const found = rows(await this.knex.raw('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [OWN_SCHEMA]));
    return found.length > 0 ? new JournalTable(this.knex, { schema: OWN_SCHEMA, database: this.spec.database }) : undefined;
  }

  exposureTo(app: Dialect): Promise<RoomExposure> {
    return mysqlRoomExposure(this.knex, app.knex);
  }

  lock(name: string): AdvisoryLock {
    return new MysqlLock(this.knex, name);
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}

