import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { manifestPathFor, NOTHING_SPARED, pruneBackups, readManifest, restoreBackup, runBackup, verifyBackup } from '../../src/backup/index.js';
import type { BackupManifest, Compression } from '../../src/backup/index.js';
import { fileSetDigest } from '../../src/backup/BackupManifest.js';
import type { RunConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { OmMigrateError } from '../../src/errors.js';
import { FIXTURE_OM_VERSION, loadFixture, objectsWork, tableDigests } from '../fixtures/backupFixture.js';
import { createScratchDatabase, ScratchDatabase, SERVERS, uniqueName } from '../helpers/servers.js';

/**
 * --jobs N (issue 26): a backup made by N dump sessions is a directory of files, each hashed in a version 2 manifest;
 * it verifies, restores (in parallel or not) into a database identical to the source, refuses a tampered directory,
 * and — the point of the MySQL design — is one snapshot across all its files while the database is being written.
 */
const workDir = mkdtempSync(join(tmpdir(), 'omm-parallel-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

let dirCount = 0;
function freshDir(): string {
  dirCount += 1;
  return join(workDir, `backups-${dirCount}`);
}

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<OmMigrateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OmMigrateError, `expected OmMigrateError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected ${code}`);
}

type Config = Pick<RunConfig, 'backupDir' | 'backupCompress' | 'backupKeep' | 'backupJobs' | 'env'>;
const config = (backupDir: string, backupJobs: number, backupCompress: Compression = 'none', backupKeep?: number): Config =>
  ({ backupDir, backupCompress, backupKeep, backupJobs, env: process.env });

/** A leading dash, a backtick, `=`, a path, a quote: each must stay a table name in LOCK TABLES and on the tools' command lines. */
const ODD_NAMES = ['-x', 'we`ird', 'a=b', '../up', "it's"];
const quoted = (engine: string, name: string) => (engine === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`);

const first = (db: Dialect, r: unknown): Array<Record<string, unknown>> =>
  (db.engine === 'mysql' ? (r as [Array<Record<string, unknown>>])[0] : (r as { rows: Array<Record<string, unknown>> }).rows);

for (const server of SERVERS) {
  describe(`parallel backup and restore (--jobs): ${server.label}`, () => {
    let source: ScratchDatabase;
    let app: Dialect;
    const scratch: ScratchDatabase[] = [];

    before(async () => {
      source = await createScratchDatabase(server, 'omm_pj');
      app = await connect(source.appSpec);
      await loadFixture(app);
      // More tables than sessions, so that the tables are shared out; and names an attacker with the application's
      // credentials may choose, which the lock statement and the dump tools' arguments must keep as names.
      for (let i = 1; i <= 5; i += 1) {
        await app.knex.raw(`CREATE TABLE extra_${i} (id INT PRIMARY KEY, v VARCHAR(100))`);
        await app.knex.raw(`INSERT INTO extra_${i} (id, v) VALUES (1, 'one'), (2, 'two')`);
      }
      for (const name of ODD_NAMES) {
        await app.knex.raw(`CREATE TABLE ${quoted(server.engine, name)} (id INT PRIMARY KEY)`);
        await app.knex.raw(`INSERT INTO ${quoted(server.engine, name)} (id) VALUES (7)`);
      }
    });
    after(async () => {
      await app?.close();
      // Newest first: on PostgreSQL a target belongs to the user of the database it was restored from.
      for (const s of scratch.reverse()) await s.drop();
      await source?.drop();
    });

    async function freshTarget(): Promise<ScratchDatabase> {
      const target = await createScratchDatabase(server, 'omm_pr');
      scratch.push(target);
      const user = source.appSpec.user;
      if (server.engine === 'mysql') {
        for (const host of ['%', 'localhost']) await target.root.knex.raw(`GRANT ALL PRIVILEGES ON \`${target.name}\`.* TO '${user}'@'${host}'`);
      } else {
        await target.root.knex.raw(`ALTER DATABASE "${target.name}" OWNER TO "${user}"`);
      }
      return target;
    }
    const restoreConfig = (): Pick<RunConfig, 'openmetadata' | 'airflow' | 'env'> => ({ openmetadata: source.appSpec, airflow: undefined, env: process.env });

    async function extraRows(db: Dialect): Promise<number> {
      let n = 0;
      for (let i = 1; i <= 5; i += 1) n += Number(first(db, await db.knex.raw(`SELECT count(*) AS n FROM extra_${i}`))[0].n);
      return n;
    }

    const variants: Array<{ jobs: number; compression: Compression; restoreJobs: number }> = server.engine === 'mysql'
      ? [{ jobs: 2, compression: 'none', restoreJobs: 2 }, { jobs: 3, compression: 'gzip', restoreJobs: 1 }]
      : [{ jobs: 2, compression: 'none', restoreJobs: 2 }, { jobs: 3, compression: 'none', restoreJobs: 1 }];
    for (const v of variants) {
      it(`--jobs ${v.jobs} (${v.compression}): a directory of 0600 files, each hashed in the manifest; verifies; restore --jobs ${v.restoreJobs} gives every table, view, routine and trigger back`, async () => {
        const dir = freshDir();
        const events: string[] = [];
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, v.jobs, v.compression), { onProgress: (e) => events.push(e.phase) });
        const backup = join(dir, manifest.file);
        assert.equal(manifest.manifestVersion, 2);
        assert.equal(manifest.format, server.engine === 'mysql' ? 'sql-files' : 'directory');
        assert.equal(manifest.jobs, v.jobs);
        assert.equal(manifest.openmetadataVersion, FIXTURE_OM_VERSION);
        assert.match(manifest.file, new RegExp(`^${source.name}-om${FIXTURE_OM_VERSION}-\\d{8}T\\d{6}Z\\.(sql|dump)\\.d$`));
        assert.equal(statSync(backup).mode & 0o777, 0o700);
        assert.equal(statSync(manifestPathFor(backup)).mode & 0o777, 0o600);
        assert.deepEqual(readdirSync(backup).sort(), manifest.files!.map((f) => f.name).sort(), 'every file of the directory is listed, and no other');
        for (const f of manifest.files!) {
          assert.equal(sha256Of(join(backup, f.name)), f.sha256, f.name);
          assert.equal(statSync(join(backup, f.name)).size, f.bytes, f.name);
          assert.equal(statSync(join(backup, f.name)).mode & 0o777, 0o600, f.name);
        }
        assert.equal(manifest.sha256, fileSetDigest(manifest.files!));
        assert.equal(manifest.bytes, manifest.files!.reduce((s, f) => s + f.bytes, 0));
        if (server.engine === 'mysql') {
          const tableFiles = manifest.files!.filter((f) => f.load === 'parallel');
          assert.equal(tableFiles.length, v.jobs, 'one file per session');
          assert.deepEqual(tableFiles.flatMap((f) => f.tables!).sort(),
            ['SERVER_CHANGE_LOG', 'audit', 'entity', 'extra_1', 'extra_2', 'extra_3', 'extra_4', 'extra_5', ...ODD_NAMES].sort(), 'every table in exactly one file');
          assert.deepEqual(manifest.files!.filter((f) => f.load === 'last').map((f) => f.name), [`objects.sql${v.compression === 'gzip' ? '.gz' : ''}`]);
        } else {
          assert.ok(manifest.files!.some((f) => f.name === 'toc.dat'));
          assert.equal(manifest.verification.method, 'pg_restore --list');
        }
        assert.ok(events.includes('started') && events.includes('verifying'), events.join(','));
        assert.ok(!readFileSync(manifestPathFor(backup), 'utf8').includes(source.appSpec.password as string));
        const verified = await verifyBackup(manifestPathFor(backup), { env: process.env });
        assert.ok(verified.ok, verified.problems.join('; '));

        const target = await freshTarget();
        await restoreBackup(manifestPathFor(backup), restoreConfig(), { into: target.name, jobs: v.restoreJobs });
        assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
        const restored = await connect({ ...source.appSpec, database: target.name });
        try {
          assert.equal(await extraRows(restored), 10);
          for (const name of ODD_NAMES) {
            assert.equal(Number(first(restored, await restored.knex.raw(`SELECT count(*) AS n FROM ${quoted(server.engine, name)} WHERE id = 7`))[0].n), 1, name);
          }
          assert.deepEqual(await objectsWork(restored), { shout: 'OK!', auditGrew: true, viewRows: 501 });
        } finally {
          // objectsWork wrote into the copy only.
          await restored.close();
        }
      });
    }

    it('a file changed, removed or added in the directory fails verification, and restore refuses before touching the target', async () => {
      const dir = freshDir();
      const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, 2));
      const backup = join(dir, manifest.file);
      const manifestPath = manifestPathFor(backup);
      const victim = join(backup, manifest.files!.find((f) => f.bytes > 1000)!.name);
      const original = readFileSync(victim);

      const changed = Buffer.from(original);
      changed[Math.floor(changed.length / 2)] ^= 0xff;
      writeFileSync(victim, changed);
      let check = await verifyBackup(manifestPath, { env: process.env });
      assert.equal(check.ok, false);
      assert.match(check.problems.join('\n'), /SHA-256 of .* the file was changed or damaged/);
      const target = await freshTarget();
      await rejectsWith(restoreBackup(manifestPath, restoreConfig(), { into: target.name, jobs: 2 }), 'RESTORE_REFUSED', /does not verify/);
      assert.equal(Number(first(target.root, await target.root.knex.raw(server.engine === 'mysql'
        ? 'SELECT count(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()'
        : "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"))[0].n), 0, 'the target was not touched');
      writeFileSync(victim, original);
      assert.ok((await verifyBackup(manifestPath, { env: process.env })).ok);

      writeFileSync(join(backup, server.engine === 'mysql' ? 'zz-extra.sql' : '9999.dat.gz'), 'DROP TABLE entity;\n');
      check = await verifyBackup(manifestPath, { env: process.env });
      assert.equal(check.ok, false);
      assert.match(check.problems.join('\n'), /holds 1 file\(s\) its manifest does not list/);
      rmSync(join(backup, server.engine === 'mysql' ? 'zz-extra.sql' : '9999.dat.gz'));

      rmSync(victim);
      check = await verifyBackup(manifestPath, { env: process.env });
      assert.equal(check.ok, false);
      assert.match(check.problems.join('\n'), /does not exist/);

      // A manifest edited to match a swapped file still fails: its own digest no longer matches its listing.
      writeFileSync(victim, original);
      const edited = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
      edited.files![0].sha256 = 'f'.repeat(64);
      writeFileSync(manifestPath, JSON.stringify(edited));
      check = await verifyBackup(manifestPath, { env: process.env });
      assert.equal(check.ok, false);
      assert.match(check.problems.join('\n'), /does not match its own SHA-256/);
    });

    it('keeps a consistent snapshot across its sessions: rows committed in pairs while the dump runs are in both tables or in neither', async () => {
      const db = await createScratchDatabase(server, 'omm_pc');
      scratch.push(db);
      const writer = await connect(db.appSpec);
      const dumper = await connect(db.appSpec);
      try {
        // Two tables of about the same size, which go to two different sessions, and a writer that commits one row
        // into each per transaction for as long as the backup runs.
        for (const t of ['pair_a', 'pair_b']) {
          await writer.knex.raw(`CREATE TABLE ${t} (id INT PRIMARY KEY, pad ${server.engine === 'mysql' ? 'LONGTEXT' : 'TEXT'})`);
          await writer.knex.raw(server.engine === 'mysql'
            ? `INSERT INTO ${t} SELECT seq, REPEAT(MD5(seq), 64) FROM seq_1_to_20000`
            : `INSERT INTO ${t} SELECT g, repeat(md5(g::text), 64) FROM generate_series(1, 20000) g`);
        }
        if (server.engine === 'postgres') await writer.knex.raw('ANALYZE');
        else await writer.knex.raw('ANALYZE TABLE pair_a, pair_b');
        let stop = false;
        let committed = 0;
        const writing = (async () => {
          for (let id = 100_000; !stop; id += 1) {
            await writer.knex.transaction(async (trx) => {
              await trx.raw('INSERT INTO pair_a (id) VALUES (?)', [id]);
              await trx.raw('INSERT INTO pair_b (id) VALUES (?)', [id]);
            });
            committed += 1;
          }
        })();
        await sleep(200);
        const dir = freshDir();
        let manifest: BackupManifest;
        try {
          manifest = await runBackup({ role: 'openmetadata', dialect: dumper }, config(dir, 2));
        } finally {
          stop = true;
          await writing;
        }
        assert.ok(committed > 20, `the writer kept writing (${committed} pairs)`);
        if (server.engine === 'mysql') {
          const files = manifest.files!.filter((f) => f.load === 'parallel');
          assert.notDeepEqual(files.find((f) => f.tables!.includes('pair_a')), files.find((f) => f.tables!.includes('pair_b')), 'the two tables were dumped by different sessions');
        }
        const target = await createScratchDatabase(server, 'omm_pt');
        scratch.push(target);
        if (server.engine === 'mysql') {
          for (const host of ['%', 'localhost']) await target.root.knex.raw(`GRANT ALL PRIVILEGES ON \`${target.name}\`.* TO '${db.appSpec.user}'@'${host}'`);
        } else {
          await target.root.knex.raw(`ALTER DATABASE "${target.name}" OWNER TO "${db.appSpec.user}"`);
        }
        await restoreBackup(manifestPathFor(join(dir, manifest.file)), { openmetadata: db.appSpec, airflow: undefined, env: process.env }, { into: target.name, jobs: 2 });
        const ids = async (t: string) => first(target.root, await target.root.knex.raw(`SELECT id FROM ${t} WHERE id >= 100000 ORDER BY id`)).map((r) => Number(r.id));
        const a = await ids('pair_a');
        const b = await ids('pair_b');
        assert.deepEqual(a, b, `pairs split between the files: pair_a has ${a.length} written rows, pair_b ${b.length}`);
      } finally {
        await writer.close();
        await dumper.close();
      }
    });

    it('an interrupted parallel backup leaves no directory behind; an older directory backup is pruned by --keep', async () => {
      const dir = freshDir();
      const controller = new AbortController();
      await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, config(dir, 2), {
        signal: controller.signal,
        onProgress: (e) => { if (e.phase === 'started') controller.abort(); },
      }), 'INTERRUPTED');
      assert.deepEqual(readdirSync(dir), []);

      const older = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, 2));
      await sleep(1100);
      const newer = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, 2));
      const removed = await pruneBackups(dir, newer, 1, NOTHING_SPARED);
      assert.deepEqual(removed, [join(dir, older.file)]);
      assert.equal(existsSync(join(dir, older.file)), false);
      assert.deepEqual(readdirSync(dir).sort(), [newer.file, `${newer.file}.manifest.json`].sort());
      assert.equal((await readManifest(manifestPathFor(join(dir, newer.file)))).manifestVersion, 2);
    });

    it('restore --jobs on a single-file SQL dump is still a usage error; a single-file backup still verifies and restores', async () => {
      const dir = freshDir();
      const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, 1));
      assert.equal(manifest.manifestVersion, 1);
      assert.equal(manifest.files, undefined);
      assert.ok((await verifyBackup(manifestPathFor(join(dir, manifest.file)), { env: process.env })).ok);
      if (server.engine === 'mysql') {
        const target = await freshTarget();
        await rejectsWith(restoreBackup(manifestPathFor(join(dir, manifest.file)), restoreConfig(), { into: target.name, jobs: 2 }), 'USAGE', /single SQL dump/);
      }
    });

    if (server.engine === 'mysql') {
      it('without LOCK TABLES the parallel dump refuses before dumping anything, and says which GRANT or --jobs 1', async () => {
        const db = await createScratchDatabase(server, 'omm_pl');
        scratch.push(db);
        await db.root.knex.raw('CREATE TABLE t1 (id INT PRIMARY KEY)');
        await db.root.knex.raw('CREATE TABLE t2 (id INT PRIMARY KEY)');
        const user = uniqueName('omm_nolock');
        const password = `pw-${user}`;
        await db.root.knex.raw(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
        try {
          await db.root.knex.raw(`GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON \`${db.name}\`.* TO '${user}'@'%'`);
          const reader = await connect({ ...db.appSpec, user, password });
          try {
            // Preflight says so first (the backup gate asks with the run's --jobs).
            const info = await reader.serverInfo();
            const problems = await reader.dumpPrivilegeProblems(info, { jobs: 2 });
            assert.ok(problems.some((p) => p.severity === 'block' && /no LOCK TABLES privilege .*--jobs 2/.test(p.summary) && /GRANT LOCK TABLES ON/.test(p.fix)),
              JSON.stringify(problems));
            assert.ok(!(await reader.dumpPrivilegeProblems(info)).some((p) => /LOCK TABLES/.test(p.summary)), 'nothing about LOCK TABLES without --jobs');
            const dir = freshDir();
            const error = await rejectsWith(runBackup({ role: 'openmetadata', dialect: reader }, config(dir, 2)), 'BACKUP_FAILED', /locks every table .* may not/);
            assert.match(error.hint ?? '', /GRANT LOCK TABLES ON `omm_pl_[0-9a-f]+`\.\* TO .*--jobs 1/);
            assert.deepEqual(readdirSync(dir), [], 'nothing left in the backup directory');
            const single = await runBackup({ role: 'openmetadata', dialect: reader }, config(dir, 1));
            assert.equal(single.manifestVersion, 1);
          } finally {
            await reader.close();
          }
        } finally {
          await db.root.knex.raw(`DROP USER '${user}'@'%'`);
        }
      });
    }
  });
}
