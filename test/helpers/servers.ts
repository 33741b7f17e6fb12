import { randomBytes } from 'node:crypto';
import type { ConnectionSpec, Engine } from '../../src/config/ConnectionSpec.js';
import { parseAdminUrl } from '../../src/config/parseUrls.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';

/**
 * The real servers the integration tests run against: the machine's MariaDB 10.11 and PostgreSQL 15.
 * Override with OM_MIGRATE_TEST_MYSQL_URL / OM_MIGRATE_TEST_PG_URL (a superuser URL without a database).
 */
export interface TestServer {
  engine: Engine;
  label: string;
  admin: ConnectionSpec;
}

export const SERVERS: readonly TestServer[] = [
  {
    engine: 'mysql',
    label: 'MariaDB',
    admin: parseAdminUrl(process.env.OM_MIGRATE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/', 'OM_MIGRATE_TEST_MYSQL_URL'),
  },
  {
    engine: 'postgres',
    label: 'PostgreSQL',
    admin: parseAdminUrl(process.env.OM_MIGRATE_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', 'OM_MIGRATE_TEST_PG_URL'),
  },
];

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

/** A throw-away database on a test server, with its superuser spec and an application user that owns nothing else. */
export interface ScratchDatabase {
  name: string;
  server: TestServer;
  /** Superuser connection to this database. */
  rootSpec: ConnectionSpec;
  /** An ordinary user with all privileges on this database only (PostgreSQL: its owner), no SUPER/superuser. */
  appSpec: ConnectionSpec;
  /** A pinned superuser connection for fixtures to run SQL on; closed by drop(). */
  root: Dialect;
  drop(): Promise<void>;
}

export interface ScratchOptions {
  /**
   * MySQL: give the application user PROCESS, so that it sees other users' sessions. Airflow's lock name
   * (airflow_MIGRATIONS) is server-wide on MySQL, and a holder whose session cannot be seen counts as a migration of
   * this database (src/airflow/migrationActivity.ts); tests that repair or migrate Airflow on the shared server use it
   * so that another test file's stand-in, busy with its own database, does not block them at random.
   */
  seesOtherSessions?: boolean;
}

export async function createScratchDatabase(server: TestServer, prefix = 'omm', options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const name = uniqueName(prefix);
  const user = `${name}_app`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const admin = await connect(server.admin);
  try {
    if (server.engine === 'mysql') {
      await admin.knex.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      for (const host of ['%', 'localhost']) {
        await admin.knex.raw(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
        await admin.knex.raw(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${user}'@'${host}'`);
        if (options.seesOtherSessions) await admin.knex.raw(`GRANT PROCESS ON *.* TO '${user}'@'${host}'`);
      }
    } else {
      await admin.knex.raw(`CREATE ROLE "${user}" LOGIN PASSWORD '${password}'`);
      await admin.knex.raw(`CREATE DATABASE "${name}" OWNER "${user}"`);
    }
  } finally {
    await admin.close();
  }
  const rootSpec: ConnectionSpec = { ...server.admin, database: name, source: 'test' };
  const appSpec: ConnectionSpec = { ...server.admin, user, password, database: name, source: 'test' };
  const root = await connect(rootSpec);
  return {
    name,
    server,
    rootSpec,
    appSpec,
    root,
    async drop() {
      await root.close().catch(() => undefined);
      const a = await connect(server.admin);
      try {
        if (server.engine === 'mysql') {
          await a.knex.raw(`DROP DATABASE IF EXISTS \`${name}\``);
          for (const host of ['%', 'localhost']) await a.knex.raw(`DROP USER IF EXISTS '${user}'@'${host}'`);
        } else {
          await a.knex.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await a.knex.raw(`DROP ROLE IF EXISTS "${user}"`);
        }
      } finally {
        await a.close();
      }
    },
  };
}
