import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec, TargetRole } from '../../src/config/ConnectionSpec.js';
import type { WorkMemScope } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../../src/errors.js';
import type { ConnectedTarget } from '../../src/core/Gate.js';
import {
  applyParameterChanges, createParameterRun, findUnreverted, ParameterRun, revertLeftovers, revertParameterChanges,
  sortMemoryRequest,
} from '../../src/params/index.js';
import { withParameterGuard } from '../../src/params/withParameterGuard.js';
import { BinlogMariadb, startBinlogMariadb } from '../helpers/binlogMariadb.js';
import { createScratchDatabase, ScratchDatabase, SERVERS, TestServer, uniqueName } from '../helpers/servers.js';

const BYTES = 20 * 1024 * 1024;
const CHILD = fileURLToPath(new URL('../fixtures/paramsChild.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const journalDir = mkdtempSync(join(tmpdir(), 'omm-journal-'));

async function connectTarget(spec: ConnectionSpec, role: TargetRole = 'openmetadata'): Promise<ConnectedTarget> {
  const dialect = await connect(spec);
  return { role, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
}

function newRun(targets: ConnectedTarget[], admin?: Dialect): ParameterRun {
  return createParameterRun({ targets, adminFor: async () => admin, journalDir });
}

/** Every journal entry of a run, wherever its journal is (the admin's own schema for admin-made changes). */
async function runEntries(run: ParameterRun, t: ConnectedTarget) {
  const entries = [];
  for (const source of await run.readableJournals(t)) entries.push(...await source.store.ofRun(run.runId));
  return entries;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<OmMigrateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isOmMigrateError(error), `expected an OmMigrateError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/**
 * A place to change the sort memory for real: on MariaDB the throw-away binlog server (GLOBAL changes must not touch
 * the shared local server), changed through its root as the admin connection; on PostgreSQL the local server, at
 * database (or role) scope on scratch databases, changed by the owning application user itself.
 */
interface Setup {
  label: string;
  server: () => TestServer;
  scope: WorkMemScope;
  /** Whether the run needs the admin connection (the app user cannot change the value). */
  viaAdmin: boolean;
  /** The value stored now at the scope the run changes (null: no setting). */
  read(db: ScratchDatabase): Promise<string | null>;
  adminUrl(): string | undefined;
}

let binlog: BinlogMariadb | undefined;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  binlog = await startBinlogMariadb();
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await binlog?.stop();
  rmSync(journalDir, { recursive: true, force: true });
});

async function scratch(server: TestServer): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(server, 'ommp');
  cleanups.push(() => db.drop());
  return db;
}

const SETUPS: Setup[] = [
  {
    label: 'MariaDB with binary logging (GLOBAL, admin connection)',
    server: () => binlog!.server,
    scope: 'database',
    viaAdmin: true,
    read: (db) => db.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' }),
    adminUrl: () => `mysql://root:binlog-root-pw@127.0.0.1:${binlog!.port}/`,
  },
  {
    label: 'PostgreSQL (ALTER DATABASE, as the owner)',
    server: () => SERVERS.find((s) => s.engine === 'postgres')!,
    scope: 'database',
    viaAdmin: false,
    read: (db) => db.root.params.readBack({ parameter: 'work_mem', scope: 'database', object: db.name }),
    adminUrl: () => undefined,
  },
];

async function adminFor(setup: Setup, db: ScratchDatabase): Promise<Dialect | undefined> {
  if (!setup.viaAdmin) return undefined;
  const admin = await connect(db.rootSpec);
  cleanups.push(() => admin.close());
  return admin;
}

function spawnChild(setup: Setup, db: ScratchDatabase, stopAt?: string) {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      PATH: process.env.PATH,
      OMM_CHILD: JSON.stringify({
        targets: [{ role: 'openmetadata', spec: db.appSpec }], admin: setup.viaAdmin ? db.rootSpec : undefined,
        bytes: BYTES, scope: setup.scope, stopAt, journalDir,
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (marker: string) => {
    for (let i = 0; i < 300; i += 1) {
      if (out.includes(marker)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`child never said ${marker}; stdout: ${out}; stderr: ${err}`);
  };
  return { child, exited, waitFor, output: () => out };
}

function runRevertParams(setup: Setup, db: ScratchDatabase): Promise<{ code: number | null; out: string; err: string }> {
  const spec = db.appSpec;
  const args = ['revert-params', '--db-scheme', spec.engine === 'mysql' ? 'mysql' : 'postgresql', '--db-host', spec.host,
    '--db-port', String(spec.port), '--db-user', spec.user, '--database', spec.database];
  const adminUrl = setup.adminUrl();
  if (adminUrl) args.push('--admin-url', adminUrl);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, DB_USER_PASSWORD: spec.password ?? '', OM_MIGRATE_JOURNAL_DIR: journalDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

for (const setup of SETUPS) {
  describe(`parameter changes: ${setup.label}`, () => {
    it('raises the value inside the guard and puts it back exactly after success', async () => {
      const db = await scratch(setup.server());
      const before = await setup.read(db);
      const t = await connectTarget(db.appSpec);
      const admin = await adminFor(setup, db);
      const run = newRun([t], admin);
      try {
        const result = await withParameterGuard(run, async () => {
          const applied = await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: setup.scope })]);
          assert.equal(applied.length, 1);
          assert.equal(applied[0].previous, before);
          assert.ok(t.dialect.params.sameValue(await setup.read(db), applied[0].next), 'raised while the step runs');
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(await setup.read(db), before);
        const entries = await runEntries(run, t);
        assert.deepEqual(entries.map((e) => e.status), ['reverted']);
        assert.equal(entries[0].via, setup.viaAdmin ? 'admin' : 'application');
        assert.deepEqual(await findUnreverted([t], { journalDir }), []);
      } finally {
        await t.dialect.close();
      }
    });

    it('puts the value back after a failing step and rethrows the step\'s error', async () => {
      const db = await scratch(setup.server());
      const before = await setup.read(db);
      const t = await connectTarget(db.appSpec);
      const run = newRun([t], await adminFor(setup, db));
      try {
        await assert.rejects(withParameterGuard(run, async () => {
          await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: setup.scope })]);
          throw new Error('step 3 failed');
        }), /step 3 failed/);
        assert.equal(await setup.read(db), before);
      } finally {
        await t.dialect.close();
      }
    });

    it('puts the value back on SIGINT and ends with INTERRUPTED (exit 130)', async () => {
      const db = await scratch(setup.server());
      const before = await setup.read(db);
      const c = spawnChild(setup, db);
      await c.waitFor('APPLIED');
      assert.notEqual(await setup.read(db), before);
      c.child.kill('SIGINT');
      assert.equal(await c.exited, 130);
      assert.match(c.output(), /CODE INTERRUPTED/);
      assert.equal(await setup.read(db), before);
    });

    it('puts the value back on SIGTERM', async () => {
      const db = await scratch(setup.server());
      const before = await setup.read(db);
      const c = spawnChild(setup, db);
      await c.waitFor('APPLIED');
      c.child.kill('SIGTERM');
      assert.equal(await c.exited, 130);
      assert.equal(await setup.read(db), before);
    });

    for (const point of ['journaled', 'applied', 'restored'] as const) {
      it(`after SIGKILL at "${point}", findUnreverted reports it and revert-params puts it back`, async () => {
        const db = await scratch(setup.server());
        const before = await setup.read(db);
        const c = spawnChild(setup, db, point);
        await c.waitFor(`STOPPED ${point}`);
        c.child.kill('SIGKILL');
        await c.exited;
        const t = await connectTarget(db.appSpec);
        const admin = await adminFor(setup, db);
        try {
          const left = await findUnreverted([t], { journalDir, adminFor: async () => admin });
          assert.equal(left.length, 1);
          assert.equal(left[0].runActive, false, 'a killed run holds no lock');
          assert.equal(left[0].previous, before);
          assert.equal(left[0].status, point === 'journaled' ? 'pending' : 'applied');
          const r = await runRevertParams(setup, db);
          assert.equal(r.code, 0, r.err);
          assert.match(r.out, /put back/);
          assert.equal(await setup.read(db), before);
          assert.deepEqual(await findUnreverted([t], { journalDir, adminFor: async () => admin }), []);
          const again = await runRevertParams(setup, db);
          assert.equal(again.code, 0, again.err);
          assert.match(again.out, /Nothing to put back/);
        } finally {
          await t.dialect.close();
        }
      });
    }
  });
}

describe('shared values: MariaDB GLOBAL on one server', () => {
  it('one run with two databases on one server changes the GLOBAL once and puts it back once', async () => {
    const om = await scratch(binlog!.server);
    const af = await scratch(binlog!.server);
    const before = await om.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' });
    const t1 = await connectTarget(om.appSpec, 'openmetadata');
    const t2 = await connectTarget(af.appSpec, 'airflow');
    const admin = await connect(om.rootSpec);
    const run = newRun([t1, t2], admin);
    const config = { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' as const };
    try {
      const applied = await applyParameterChanges(run, [sortMemoryRequest(t1, config), sortMemoryRequest(t2, config)]);
      assert.equal(applied.length, 1);
      const report = await revertParameterChanges(run);
      assert.equal(report.reverted.length, 1);
      assert.equal(await om.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' }), before);
    } finally {
      await Promise.all([t1.dialect.close(), t2.dialect.close(), admin.close()]);
    }
  });

  it('two concurrent runs: the value is put back only when the last run that needs it ends', async () => {
    const a = await scratch(binlog!.server);
    const b = await scratch(binlog!.server);
    const read = () => a.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' });
    const before = await read();
    const config = { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' as const };
    const ta = await connectTarget(a.appSpec);
    const tb = await connectTarget(b.appSpec);
    const adminA = await connect(a.rootSpec);
    const adminB = await connect(b.rootSpec);
    try {
      // Order 1: B ends first; A, the run that changed it, puts it back.
      let runA = newRun([ta], adminA);
      let runB = newRun([tb], adminB);
      assert.equal((await applyParameterChanges(runA, [sortMemoryRequest(ta, config)])).length, 1);
      assert.equal((await applyParameterChanges(runB, [sortMemoryRequest(tb, config)])).length, 0, 'already high enough');
      await revertParameterChanges(runB);
      assert.equal(await read(), String(BYTES), 'B did not change it, so B does not put it back');
      assert.equal((await revertParameterChanges(runA)).reverted.length, 1);
      assert.equal(await read(), before);

      // Order 2: A (which changed it) ends while B still migrates: deferred, never reverted under B.
      runA = newRun([ta], adminA);
      runB = newRun([tb], adminB);
      await applyParameterChanges(runA, [sortMemoryRequest(ta, config)]);
      await applyParameterChanges(runB, [sortMemoryRequest(tb, config)]);
      const reportA = await revertParameterChanges(runA);
      assert.equal(reportA.deferred.length, 1);
      assert.equal(await read(), String(BYTES), 'still raised: B needs it');
      const left = await findUnreverted([ta], { journalDir, adminFor: async () => adminA });
      assert.equal(left.length, 1);
      assert.equal(left[0].status, 'deferred');
      await revertParameterChanges(runB);
      // The next om-migrate on A's database (up or revert-params) puts it back, now that nobody needs it.
      const later = newRun([ta], adminA);
      const cleanup = await revertLeftovers(later);
      assert.equal(cleanup.reverted.length, 1);
      assert.equal(await read(), before);
    } finally {
      await Promise.all([ta.dialect.close(), tb.dialect.close(), adminA.close(), adminB.close()]);
    }
  });
});

describe('shared values: PostgreSQL role setting', () => {
  const pg = () => SERVERS.find((s) => s.engine === 'postgres')!;
  it('two databases of one role in one run: ALTER ROLE once; a concurrent run keeps it until it ends', async () => {
    const om = await scratch(pg());
    const role = om.appSpec.user;
    const second = uniqueName('ommp2');
    await om.root.knex.raw(`CREATE DATABASE "${second}" OWNER "${role}"`);
    cleanups.push(async () => {
      const d = await connect(pg().admin);
      await d.knex.raw(`DROP DATABASE IF EXISTS "${second}" WITH (FORCE)`);
      await d.close();
    });
    const read = () => om.root.params.readBack({ parameter: 'work_mem', scope: 'role', object: role });
    const config = { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'role' as const };
    const t1 = await connectTarget(om.appSpec, 'openmetadata');
    const t2 = await connectTarget({ ...om.appSpec, database: second }, 'airflow');
    const other = await connectTarget({ ...om.appSpec, database: second }, 'airflow');
    try {
      assert.equal(await read(), null);
      const run = newRun([t1, t2]);
      assert.equal((await applyParameterChanges(run, [sortMemoryRequest(t1, config), sortMemoryRequest(t2, config)])).length, 1);
      assert.equal(await read(), '20MB');
      const concurrent = newRun([other]);
      await applyParameterChanges(concurrent, [sortMemoryRequest(other, config)]);
      assert.equal((await revertParameterChanges(run)).deferred.length, 1);
      assert.equal(await read(), '20MB');
      await revertParameterChanges(concurrent);
      await revertLeftovers(newRun([t1]));
      assert.equal(await read(), null, 'RESET: no role setting existed before');
    } finally {
      await Promise.all([t1.dialect.close(), t2.dialect.close(), other.dialect.close()]);
    }
  });
});

describe('refusals: blocked before anything changed', () => {
  it('MariaDB with binary logging: a user without SUPER gets 1227 → BLOCKED with the parameter-group hint', async () => {
    const db = await scratch(binlog!.server);
    const before = await db.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' });
    const t = await connectTarget(db.appSpec);
    const run = newRun([t]);
    try {
      const error = await rejectsWith(applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' })]), 'BLOCKED');
      assert.match(error.message, /nothing was changed/);
      assert.match(error.hint ?? '', /--admin-url/);
      assert.match(error.hint ?? '', /parameter group/);
      assert.match(error.hint ?? '', /--params skip/);
      assert.equal(await db.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' }), before);
      const entries = await t.dialect.journal.ofRun(run.runId);
      assert.deepEqual(entries.map((e) => e.status), ['refused']);
      assert.deepEqual(await findUnreverted([t], { journalDir }), []);
    } finally {
      await t.dialect.close();
    }
  });

  it('PostgreSQL: a role that does not own the database gets 42501 → BLOCKED; the journal falls back to a 0600 file', async () => {
    const db = await scratch(SERVERS.find((s) => s.engine === 'postgres')!);
    const stranger = `${db.name}_other`;
    await db.root.knex.raw(`CREATE ROLE "${stranger}" LOGIN PASSWORD 'stranger-pw'`);
    cleanups.push(async () => {
      const d = await connect(SERVERS.find((s) => s.engine === 'postgres')!.admin);
      await d.knex.raw(`DROP ROLE IF EXISTS "${stranger}"`);
      await d.close();
    });
    const t = await connectTarget({ ...db.appSpec, user: stranger, password: 'stranger-pw' });
    const run = newRun([t]);
    try {
      await rejectsWith(applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' })]), 'BLOCKED');
      assert.equal(await db.root.params.readBack({ parameter: 'work_mem', scope: 'database', object: db.name }), null);
      const journal = await run.journalFor(t, 'application');
      assert.match(journal.location, /^file /);
      assert.equal(statSync(journal.location.slice('file '.length)).mode & 0o777, 0o600);
      assert.deepEqual((await journal.ofRun(run.runId)).map((e) => e.status), ['refused']);
    } finally {
      await t.dialect.close();
    }
  });
});

describe('a revert that fails', () => {
  it('MariaDB: the admin account loses SUPER between apply and revert → REVERT_FAILED with the SQL to run by hand', async () => {
    const db = await scratch(binlog!.server);
    const read = () => db.root.params.readBack({ parameter: 'sort_buffer_size', scope: 'global' });
    const before = await read();
    const adminUser = `${db.name}_adm`;
    await db.root.knex.raw(`CREATE USER '${adminUser}'@'%' IDENTIFIED BY 'adm-pw'`);
    await db.root.knex.raw(`GRANT SUPER ON *.* TO '${adminUser}'@'%'`);
    const admin = await connect({ ...db.rootSpec, database: '', user: adminUser, password: 'adm-pw' });
    const t = await connectTarget(db.appSpec);
    const run = newRun([t], admin);
    try {
      await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' })]);
      const [[{ id }]] = (await admin.knex.raw('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
      await db.root.knex.raw(`REVOKE SUPER ON *.* FROM '${adminUser}'@'%'`);
      await db.root.knex.raw(`KILL ${Number(id)}`);
      const error = await rejectsWith(revertParameterChanges(run), 'REVERT_FAILED');
      const manual = (error.details?.manualSql ?? []) as string[];
      assert.deepEqual(manual, [`SET GLOBAL sort_buffer_size = ${before};`]);
      assert.match(error.hint ?? '', /SET GLOBAL sort_buffer_size/);
      assert.equal(await read(), String(BYTES), 'still raised: the revert really failed');
      // The operator runs the SQL by hand; revert-params then verifies and clears the entry.
      await db.root.knex.raw(manual[0].replace(/;$/, ''));
      const rootAdmin = await connect(db.rootSpec);
      cleanups.push(() => rootAdmin.close());
      assert.equal((await revertLeftovers(newRun([t], rootAdmin))).reverted.length, 1);
      assert.deepEqual(await findUnreverted([t], { journalDir }), []);
    } finally {
      await db.root.knex.raw(`SET GLOBAL sort_buffer_size = ${Number(before)}`);
      await db.root.knex.raw(`DROP USER IF EXISTS '${adminUser}'@'%'`);
      await Promise.all([t.dialect.close(), admin.close().catch(() => undefined)]);
    }
  });

  it('PostgreSQL: the admin role stops being superuser between apply and revert → REVERT_FAILED with the SQL', async () => {
    const server = SERVERS.find((s) => s.engine === 'postgres')!;
    const db = await scratch(server);
    const adminRole = `${db.name}_adm`;
    await db.root.knex.raw(`CREATE ROLE "${adminRole}" LOGIN SUPERUSER PASSWORD 'adm-pw'`);
    cleanups.push(async () => {
      const d = await connect(server.admin);
      try {
        await d.knex.raw(`DROP ROLE IF EXISTS "${adminRole}"`);
      } finally {
        await d.close();
      }
    });
    const admin = await connect({ ...db.rootSpec, user: adminRole, password: 'adm-pw' });
    // A stranger as the application user, so only the admin may ALTER DATABASE.
    const t = await connectTarget(db.appSpec);
    await db.root.knex.raw(`ALTER DATABASE "${db.name}" OWNER TO postgres`);
    const run = newRun([t], admin);
    try {
      await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'database' })]);
      await db.root.knex.raw(`ALTER ROLE "${adminRole}" NOSUPERUSER`);
      const error = await rejectsWith(revertParameterChanges(run), 'REVERT_FAILED');
      assert.deepEqual(error.details?.manualSql, [`ALTER DATABASE "${db.name}" RESET work_mem;`]);
      assert.equal(await db.root.params.readBack({ parameter: 'work_mem', scope: 'database', object: db.name }), '20MB');
    } finally {
      await db.root.knex.raw(`ALTER DATABASE "${db.name}" RESET work_mem`);
      // The admin role owns the journal schema it made; it can only be dropped without it.
      await db.root.knex.raw('DROP SCHEMA IF EXISTS om_migrate CASCADE');
      await Promise.all([t.dialect.close(), admin.close()]);
    }
  });
});
