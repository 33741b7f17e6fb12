import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { createDagTable, sqlAlchemyUrl, standInCommandLine, type Mysqlclient } from '../fixtures/airflow/python/pythonAirflow.js';
import { createScratchDatabase, type ScratchDatabase, type TestServer } from './servers.js';

/**
 * An Airflow database for tests that run the CLI against it: a throw-away database with the application user's
 * connection, a directory for the run's backups and journal, and the environment that points the CLI at both.
 */
export interface AirflowCase {
  db: ScratchDatabase;
  /** The application user's connection. */
  app: Dialect;
  dir: string;
  /** The CLI's environment with the stand-in migrator as Airflow's (airflowEnv with no options). */
  env: Record<string, string>;
}

export interface AirflowCaseOptions {
  /** Airflow's tables at 05234396c6fc with 10 task instances, built by the application user (default true). */
  seed?: boolean;
  /**
   * MySQL: the application user sees other users' sessions (ScratchOptions.seesOtherSessions; default true), so that
   * another test file's Airflow lock on the shared server is not taken for a migration of this database.
   */
  seesOtherSessions?: boolean;
}

export interface AirflowCases {
  create(server: TestServer, prefix: string, options?: AirflowCaseOptions): Promise<AirflowCase>;
  /** Runs `fn` after the file's tests, newest first, whether or not the others succeed (the cases' own go here too). */
  cleanup(fn: () => Promise<void>): void;
}

/** The Airflow cases of one test file, all dropped after it; registers its own after hook. */
export function airflowCases(): AirflowCases {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  return {
    cleanup: (fn) => { cleanups.push(fn); },
    async create(server, prefix, options = {}) {
      const db = await createScratchDatabase(server, prefix, { seesOtherSessions: options.seesOtherSessions ?? true });
      const app = await connect(db.appSpec);
      const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
      cleanups.push(async () => { await app.close(); await db.drop(); rmSync(dir, { recursive: true, force: true }); });
      if (options.seed ?? true) {
        await createAirflowSchema(app, server.engine);
        await createDagTable(app.knex, server.engine);
        await seedTaskInstances(app, server.engine, 10);
      }
      const c: AirflowCase = { db, app, dir, env: {} };
      c.env = airflowEnv(c);
      return c;
    },
  };
}

/**
 * The CLI's environment for `c`: Airflow's URL (the application user's unless `url`), the stand-in as the migrator
 * (`command`, else the stand-in with `mysqlclient`'s behaviour) and its check, backups and journal in the case's directory.
 */
export function airflowEnv(c: AirflowCase, options: { mysqlclient?: Mysqlclient; url?: string; command?: string } = {}): Record<string, string> {
  return {
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: options.url ?? sqlAlchemyUrl({ ...c.db.appSpec, password: c.db.appSpec.password ?? undefined }),
    OM_MIGRATE_AIRFLOW_COMMAND: options.command ?? standInCommandLine(['db', 'migrate'], options.mysqlclient),
    OM_MIGRATE_AIRFLOW_CHECK_COMMAND: standInCommandLine(['db', 'check-migrations', '-t', '0'], options.mysqlclient),
    OM_MIGRATE_BACKUP_DIR: join(c.dir, 'backups'),
    OM_MIGRATE_JOURNAL_DIR: join(c.dir, 'journal'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** The files the case's runs backed up (none when no run got as far as creating the directory). */
export function backupsOf(c: AirflowCase): string[] {
  const dir = join(c.dir, 'backups');
  return existsSync(dir) ? readdirSync(dir) : [];
}
