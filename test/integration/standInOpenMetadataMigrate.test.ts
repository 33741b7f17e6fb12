import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createServerChangeLog, insertVersions, migrationDirectory } from '../fixtures/openmetadata/serverChangeLog.js';
import {
  SORT_MEMORY_ERROR, STANDIN_RELEASES, STANDIN_SCRIPT, standInTableName,
} from '../fixtures/openmetadata/standInOpenMetadataMigrate.js';
import { startBinlogMariadb, BinlogMariadb } from '../helpers/binlogMariadb.js';
import { createScratchDatabase, SERVERS, ScratchDatabase, TestServer, uniqueName } from '../helpers/servers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** OpenMetadata's own environment names: the only way the stand-in learns where to connect. */
function openMetadataEnv(spec: ConnectionSpec): NodeJS.ProcessEnv {
  const mysql = spec.engine === 'mysql';
  return {
    DB_DRIVER_CLASS: mysql ? 'com.mysql.cj.jdbc.Driver' : 'org.postgresql.Driver',
    DB_SCHEME: mysql ? 'mysql' : 'postgresql',
    DB_HOST: spec.host,
    DB_PORT: String(spec.port),
    DB_USER: spec.user,
    DB_USER_PASSWORD: spec.password ?? '',
    OM_DATABASE: spec.database,
    DB_PARAMS: mysql ? 'allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC' : '',
  };
}

interface Outcome { code: number | null; stdout: string; stderr: string; applied: string[] }

function runStandIn(spec: ConnectionSpec, extra: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STANDIN_SCRIPT], {
      env: { PATH: process.env.PATH, ...openMetadataEnv(spec), ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.once('error', reject);
    child.once('close', (code) => resolve({
      code, stdout, stderr,
      applied: stdout.split('\n').filter(Boolean).map((l) => /^applied (\S+)/.exec(l)?.[1] ?? `?${l}`),
    }));
  });
}

interface ChangeLogRow { version: string; migrationFileName: string; checksum: string; metrics?: unknown }

async function changeLog(db: Dialect): Promise<ChangeLogRow[]> {
  const result = await db.knex.raw('SELECT * FROM SERVER_CHANGE_LOG ORDER BY installed_rank');
  const list = (db.engine === 'mysql' ? result[0] : result.rows) as Record<string, unknown>[];
  // PostgreSQL folds the unquoted column names to lower case.
  return list.map((r) => ({
    version: String(r.version),
    migrationFileName: String(r.migrationFileName ?? r.migrationfilename),
    checksum: String(r.checksum),
    ...('metrics' in r ? { metrics: r.metrics } : {}),
  }));
}

async function count(db: Dialect, table: string): Promise<number> {
  const result = await db.knex.raw(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number((db.engine === 'mysql' ? result[0] : result.rows)[0].n);
}

/** The stand-in sees the session value: on PostgreSQL a database default set by its owner reaches it. */
async function setWorkMem(scratch: ScratchDatabase, value: string): Promise<void> {
  const admin = await connect(scratch.server.admin);
  try {
    await admin.knex.raw(`ALTER DATABASE "${scratch.name}" SET work_mem = '${value}'`);
  } finally {
    await admin.close();
  }
}

/** Lets the stand-in past its sort-memory check without touching the shared server's globals. */
async function enoughSortMemory(scratch: ScratchDatabase): Promise<NodeJS.ProcessEnv> {
  if (scratch.server.engine === 'postgres') {
    await setWorkMem(scratch, '32MB');
    return {};
  }
  return { OM_STANDIN_SKIP_SORT_CHECK: '1' };
}

for (const server of SERVERS) {
  describe(`stand-in OpenMetadata migrator on ${server.label}`, () => {
    const scratches: ScratchDatabase[] = [];
    const scratch = async (): Promise<ScratchDatabase> => {
      const s = await createScratchDatabase(server, 'omm_standin');
      scratches.push(s);
      return s;
    };
    after(async () => {
      for (const s of scratches) await s.drop();
    });

    it('a fresh database: creates the tracking tables and records every release up to 1.11.0', async () => {
      const s = await scratch();
      const env = await enoughSortMemory(s);
      const run = await runStandIn(s.appSpec, env);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.applied, STANDIN_RELEASES, 'one line per version, in order');

      const rows = await changeLog(s.root);
      assert.deepEqual(rows.map((r) => r.version), STANDIN_RELEASES);
      for (const row of rows) {
        assert.match(row.checksum, UUID, 'checksum is a random UUID');
        assert.equal(row.migrationFileName, migrationDirectory(row.version, server.engine));
        assert.ok(row.metrics !== undefined && row.metrics !== null, 'a fresh 1.11 table has metrics, and they are filled');
        assert.ok(await s.root.introspect.tableExists(standInTableName(row.version)), `schema change of ${row.version}`);
      }
      assert.equal(new Set(rows.map((r) => r.checksum)).size, rows.length, 'checksums differ');
      assert.equal(await count(s.root, 'SERVER_MIGRATION_SQL_LOGS'), STANDIN_RELEASES.length);
      assert.equal(await s.root.openmetadata.changeLogVersions().then((v) => v?.filter((x) => x.startsWith('0.0.')).length), 0,
        'no Flyway history to copy on a fresh database');

      const again = await runStandIn(s.appSpec, env);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.applied, [], 'nothing left to apply');
      assert.equal((await changeLog(s.root)).length, STANDIN_RELEASES.length);
    });

    it('from 1.10.2 without the metrics column: applies 1.10.5 and 1.11.0, copies the Flyway history as 0.0.N', async () => {
      const s = await scratch();
      const app = await connect(s.appSpec);
      try {
        await createServerChangeLog(app, { metrics: false });
        await insertVersions(app, ['1.9.0', '1.9.5', '1.10.0', '1.10.2']);
        await app.knex.raw(`CREATE TABLE ${server.engine === 'mysql' ? 'DATABASE_CHANGE_LOG' : '"DATABASE_CHANGE_LOG"'} (
          installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
          type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,
          installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success BOOLEAN NOT NULL)`);
        const flyway = [[1, '001', 'v001__create_db_connection_info.sql', true], [2, '002', 'v002__create_tables.sql', true],
          [3, '013', 'v013__add_indexes.sql', true], [4, '014', 'v014__broken.sql', false]] as const;
        for (const [rank, version, script, success] of flyway) {
          await app.knex.raw(`INSERT INTO ${server.engine === 'mysql' ? 'DATABASE_CHANGE_LOG' : '"DATABASE_CHANGE_LOG"'}
            (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
            VALUES (?, ?, 'x', 'SQL', ?, 42, 'openmetadata_user', 1, ?)`, [rank, version, script, success]);
        }
      } finally {
        await app.close();
      }
      const run = await runStandIn(s.appSpec, await enoughSortMemory(s));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.applied, ['1.10.5', '1.11.0']);
      assert.match(run.stdout, /copied 3 Flyway history rows/);

      const rows = await changeLog(s.root);
      assert.ok(rows.every((r) => !('metrics' in r)), 'no metrics column was added');
      const byVersion = new Map(rows.map((r) => [r.version, r]));
      for (const v of ['0.0.1', '0.0.2', '0.0.13']) assert.equal(byVersion.get(v)?.checksum, '0', `${v} copied with checksum 0`);
      assert.equal(byVersion.has('0.0.14'), false, 'a failed Flyway migration is not copied');
      assert.match(byVersion.get('1.11.0')!.checksum, UUID);
      assert.equal(await s.root.introspect.tableExists(standInTableName('1.10.2')), false, 'versions already applied are not re-run');
    });

    it('OM_STANDIN_FAIL_AT fails half way with the earlier versions recorded; OM_STANDIN_TARGET stops early; a re-run resumes', async () => {
      const s = await scratch();
      const app = await connect(s.appSpec);
      try {
        await createServerChangeLog(app, { metrics: true });
        await insertVersions(app, ['1.6.0', '1.8.0', '1.9.0']);
      } finally {
        await app.close();
      }
      const env = await enoughSortMemory(s);
      const failed = await runStandIn(s.appSpec, { ...env, OM_STANDIN_FAIL_AT: '1.10.2' });
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /1\.10\.2 failed/);
      assert.deepEqual(failed.applied, ['1.9.5', '1.10.0']);
      assert.deepEqual((await changeLog(s.root)).map((r) => r.version), ['1.6.0', '1.8.0', '1.9.0', '1.9.5', '1.10.0']);
      assert.ok(await s.root.introspect.tableExists(standInTableName('1.10.2')), 'the failing version got half way');

      const toTarget = await runStandIn(s.appSpec, { ...env, OM_STANDIN_TARGET: '1.10.2' });
      assert.equal(toTarget.code, 0, toTarget.stderr);
      assert.deepEqual(toTarget.applied, ['1.10.2']);

      const started = Date.now();
      const rest = await runStandIn(s.appSpec, { ...env, OM_STANDIN_SLEEP_MS: '400' });
      assert.equal(rest.code, 0, rest.stderr);
      assert.deepEqual(rest.applied, ['1.10.5', '1.11.0']);
      assert.ok(Date.now() - started >= 400, 'OM_STANDIN_SLEEP_MS pauses between the two versions');
    });

    it('refuses a target it does not know, with exit 2 and nothing applied', async () => {
      const s = await scratch();
      const run = await runStandIn(s.appSpec, { ...(await enoughSortMemory(s)), OM_STANDIN_TARGET: '1.12.0' });
      assert.equal(run.code, 2);
      assert.deepEqual(run.applied, []);
    });

    if (server.engine === 'postgres') {
      it('work_mem below 20 MB fails like MySQL 8 (error 1038) before any version; 20 MB passes', async () => {
        const s = await scratch();
        await setWorkMem(s, '8MB');
        const low = await runStandIn(s.appSpec);
        assert.equal(low.code, 1);
        assert.equal(low.stderr.trim(), SORT_MEMORY_ERROR);
        assert.deepEqual(low.applied, []);
        assert.deepEqual(await changeLog(s.root), []);

        await setWorkMem(s, '20MB');
        const enough = await runStandIn(s.appSpec);
        assert.equal(enough.code, 0, enough.stderr);
        assert.deepEqual(enough.applied, STANDIN_RELEASES);
      });
    } else {
      it("the shared server's sort_buffer_size below 20 MB fails like MySQL 8 unless OM_STANDIN_SKIP_SORT_CHECK=1", async (t) => {
        const s = await scratch();
        const result = await s.root.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS v');
        if (Number(result[0][0].v) >= 20 * 1024 * 1024) {
          t.skip('this server already has sort_buffer_size >= 20 MB');
          return;
        }
        const low = await runStandIn(s.appSpec);
        assert.equal(low.code, 1);
        assert.equal(low.stderr.trim(), SORT_MEMORY_ERROR);
        assert.deepEqual(await changeLog(s.root), []);
      });
    }
  });
}

describe('stand-in OpenMetadata migrator on a MariaDB whose sort_buffer_size is raised', () => {
  let binlog: BinlogMariadb;
  let server: TestServer;
  let spec: ConnectionSpec;

  before(async () => {
    binlog = await startBinlogMariadb();
    server = binlog.server;
    const database = uniqueName('omm_standin_sort');
    const admin = await connect(server.admin);
    try {
      await admin.knex.raw(`CREATE DATABASE \`${database}\``);
    } finally {
      await admin.close();
    }
    spec = { ...server.admin, database };
  });
  after(async () => {
    await binlog?.stop();
  });

  it('fails with 1038 at the default 2 MB and passes once the global is 20 MB', async () => {
    const low = await runStandIn(spec);
    assert.equal(low.code, 1);
    assert.equal(low.stderr.trim(), SORT_MEMORY_ERROR);

    const admin = await connect(server.admin);
    try {
      await admin.knex.raw('SET GLOBAL sort_buffer_size = 20971520');
    } finally {
      await admin.close();
    }
    const enough = await runStandIn(spec);
    assert.equal(enough.code, 0, enough.stderr);
    assert.deepEqual(enough.applied, STANDIN_RELEASES);
  });
});
