import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manifestPathFor, restoreBackup, runBackup, verifyBackup } from '../../src/backup/index.js';
import type { BackupManifest, Compression } from '../../src/backup/index.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import type { RunConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { OmMigrateError } from '../../src/errors.js';
import { FIXTURE_OM_VERSION, loadFixture, objectsWork, tableDigests } from '../fixtures/backupFixture.js';
import { createScratchDatabase, ScratchDatabase, SERVERS } from '../helpers/servers.js';

type BackupConfig = Pick<RunConfig, 'backupDir' | 'backupCompress' | 'backupKeep' | 'env'>;

const workDir = mkdtempSync(join(tmpdir(), 'omm-backup-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

let dirCount = 0;
/** A backup directory that does not exist yet, so the 0700 creation is exercised. */
function freshDir(): string {
  dirCount += 1;
  return join(workDir, `backups-${dirCount}`, 'nested');
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

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

/** Mounts a tmpfs (root only): the one way root can meet a read-only or full directory. */
function mountTmpfs(options: string): { dir: string; unmount(): void } | undefined {
  const dir = mkdtempSync(join(workDir, 'mnt-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  if (result.status !== 0) return undefined;
  return { dir, unmount: () => { spawnSync('umount', [dir]); } };
}

for (const server of SERVERS) {
  describe(`backup and restore: ${server.label}`, () => {
    let source: ScratchDatabase;
    let app: Dialect;
    const scratch: ScratchDatabase[] = [];

    before(async () => {
      source = await createScratchDatabase(server, 'omm_bk');
      app = await connect(source.appSpec);
      await loadFixture(app);
    });
    after(async () => {
      await app?.close();
      // Targets first: on PostgreSQL the source's user owns them.
      for (const s of scratch) await s.drop();
      await source?.drop();
    });

    /** A fresh database the source's application user may restore into (same user, as on a real server). */
    async function freshTarget(): Promise<ScratchDatabase> {
      const target = await createScratchDatabase(server, 'omm_rs');
      scratch.push(target);
      const user = source.appSpec.user;
      if (server.engine === 'mysql') {
        for (const host of ['%', 'localhost']) await target.root.knex.raw(`GRANT ALL PRIVILEGES ON \`${target.name}\`.* TO '${user}'@'${host}'`);
      } else {
        await target.root.knex.raw(`ALTER DATABASE "${target.name}" OWNER TO "${user}"`);
      }
      return target;
    }

    const config = (backupDir: string, backupCompress: Compression = 'none', backupKeep?: number): BackupConfig =>
      ({ backupDir, backupCompress, backupKeep, env: process.env });
    const restoreConfig = (): Pick<RunConfig, 'openmetadata' | 'airflow' | 'env'> => ({ openmetadata: source.appSpec, airflow: undefined, env: process.env });

    const compressions: Compression[] = server.engine === 'mysql' ? ['none', 'gzip', 'zstd'] : ['none'];
    for (const compression of compressions) {
      it(`backs up (${compression}), verifies, and restores into a fresh database with every table identical`, async () => {
        const dir = freshDir();
        const events: string[] = [];
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir, compression),
          { onProgress: (e) => events.push(e.phase) });
        const file = join(dir, manifest.file);

        assert.equal(manifest.openmetadataVersion, FIXTURE_OM_VERSION);
        assert.equal(manifest.database, source.name);
        assert.equal(manifest.sha256, sha256Of(file));
        assert.equal(manifest.bytes, statSync(file).size);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        assert.equal(statSync(manifestPathFor(file)).mode & 0o777, 0o600);
        const extension = server.engine === 'postgres' ? '.dump' : { none: '.sql', gzip: '.sql.gz', zstd: '.sql.zst' }[compression];
        assert.match(manifest.file, new RegExp(`^${source.name}-om${FIXTURE_OM_VERSION}-\\d{8}T\\d{6}Z\\${extension}$`));
        assert.ok(events.includes('started') && events.includes('verifying'), events.join(','));
        const manifestText = readFileSync(manifestPathFor(file), 'utf8');
        assert.ok(!manifestText.includes(source.appSpec.password as string), 'the manifest must not hold the password');
        assert.ok((await verifyBackup(manifestPathFor(file), { env: process.env })).ok);

        const target = await freshTarget();
        const result = await restoreBackup(manifestPathFor(file), restoreConfig(), { into: target.name });
        assert.equal(result.database, target.name);
        assert.ok(result.nextSteps.some((s) => s.includes(`OpenMetadata ${FIXTURE_OM_VERSION}`)), result.nextSteps.join('\n'));

        assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
        const restored = await connect({ ...source.appSpec, database: target.name });
        try {
          assert.deepEqual(await objectsWork(restored), { shout: 'OK!', auditGrew: true, viewRows: 501 });
        } finally {
          await restored.close();
        }
      });
    }

    it('never puts the password on the dump tool\'s command line (read from /proc/<pid>/cmdline)', async () => {
      const password = source.appSpec.password as string;
      let cmdline = '';
      let environ = '';
      let secretFile: string | undefined;
      await runBackup({ role: 'openmetadata', dialect: app }, config(freshDir()), {
        onProgress: (event) => {
          if (event.phase !== 'started' || !event.pid) return;
          cmdline = readFileSync(`/proc/${event.pid}/cmdline`, 'utf8');
          environ = readFileSync(`/proc/${event.pid}/environ`, 'utf8');
          secretFile = /--defaults-extra-file=([^\0]+)/.exec(cmdline)?.[1];
        },
      });
      assert.match(cmdline, server.engine === 'mysql' ? /dump/ : /pg_dump/);
      assert.ok(cmdline.includes(source.name), cmdline);
      assert.ok(!cmdline.includes(password), 'password found in the dump tool\'s argv');
      if (server.engine === 'postgres') {
        assert.ok(environ.split('\0').includes(`PGPASSWORD=${password}`), 'pg_dump gets the password through PGPASSWORD');
      } else {
        assert.ok(secretFile, 'mariadb-dump gets the password through a defaults file');
        assert.equal(existsSync(secretFile as string), false, 'the defaults file is removed afterwards');
      }
    });

    it('fails with the tool\'s own message on a wrong password, and leaves no file', async () => {
      // A server that trusts local connections (pg_hba "trust") takes any password: then a role that does not exist
      // is the refused login instead.
      const trusting = await connect({ ...source.appSpec, password: 'not-the-password' }).then((d) => d.close().then(() => true), () => false);
      const spec: ConnectionSpec = trusting
        ? { ...source.appSpec, user: 'omm_no_such_role', password: 'not-the-password' }
        : { ...source.appSpec, password: 'not-the-password' };
      const dialect = await connect(source.appSpec);
      // The open connection stays valid; only the dump tool gets the wrong credentials.
      Object.defineProperty(dialect, 'spec', { value: spec });
      const dir = freshDir();
      try {
        const error = await rejectsWith(runBackup({ role: 'openmetadata', dialect }, config(dir)), 'BACKUP_FAILED',
          server.engine === 'mysql' ? /exited with status \d+: .*Access denied/ : trusting ? /exited with status 1: .*omm_no_such_role.* does not exist/
            : /exited with status 1: .*password authentication failed/);
        assert.ok(!error.message.includes('not-the-password'));
      } finally {
        await dialect.close();
      }
      assert.deepEqual(readdirSync(dir), []);
    });

    it('two backups in the same second get distinct names; neither overwrites the other', async () => {
      const dir = freshDir();
      const at = new Date('2026-11-21T23:00:00Z');
      const [a, b] = await Promise.all([1, 2].map(() => runBackup({ role: 'openmetadata', dialect: app }, config(dir), { now: () => at })));
      const [second, first] = [a.file, b.file].sort(); // '-' sorts before '.'
      assert.match(first, /-20261121T230000Z\.(sql|dump)$/);
      assert.equal(second, first.replace(/(\.[a-z.]+)$/, '-2$1'));
      for (const m of [a, b]) assert.ok((await verifyBackup(manifestPathFor(join(dir, m.file)), { env: process.env })).ok);
    });

    it('fails clearly when the dump tool is not on PATH', async () => {
      const dir = freshDir();
      if (server.engine === 'mysql') {
        await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, { ...config(dir), env: { ...process.env, PATH: '/nonexistent' } }),
          'BACKUP_FAILED', /(is not|nor .*is) on PATH/);
      } else {
        // pg_dump is also looked for under /usr/lib/postgresql/<major>/bin, whatever PATH says; an explicit
        // --pg-bin-dir without one is what leaves it without a tool (it is never silently replaced by another).
        const empty = freshDir();
        mkdirSync(empty, { recursive: true });
        await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, { ...config(dir), pgBinDir: empty, env: { ...process.env, PATH: '/nonexistent' } }),
          'BACKUP_FAILED', new RegExp(`--pg-bin-dir ${empty} holds no runnable pg_dump`));
      }
      assert.ok(!existsSync(dir) || readdirSync(dir).length === 0);
    });

    it('removes the partial file when the dump tool is killed mid-way', async () => {
      const dir = freshDir();
      let killed = false;
      await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, config(dir), {
        onProgress: (event) => {
          if (event.phase === 'started') pid = event.pid;
          if (event.phase === 'dumping' && !killed && pid) {
            killed = true;
            process.kill(pid, 'SIGKILL');
          }
        },
      }), 'BACKUP_FAILED', /killed by SIGKILL/);
      assert.ok(killed);
      assert.deepEqual(readdirSync(dir), []);
    });
    let pid: number | undefined;

    it('refuses an unwritable backup directory before running the dump', async () => {
      const mount = mountTmpfs('ro,size=1m');
      let dir: string;
      if (mount) dir = join(mount.dir, 'backups');
      else {
        dir = freshDir();
        mkdirSync(dir, { recursive: true, mode: 0o500 });
      }
      try {
        await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, config(dir)), 'BACKUP_FAILED', /cannot create/);
      } finally {
        mount?.unmount();
      }
    });

    it('removes the partial file and says so when the disk fills', { skip: !canMount() && 'needs root to mount a small tmpfs' }, async () => {
      const mount = mountTmpfs('size=1m') as { dir: string; unmount(): void };
      try {
        await rejectsWith(runBackup({ role: 'openmetadata', dialect: app }, config(mount.dir)), 'BACKUP_FAILED', /ENOSPC|no space/i);
        assert.deepEqual(readdirSync(mount.dir), []);
      } finally {
        mount.unmount();
      }
    });

    it('reports no per-byte progress when asked not to (no TTY), and the backup is the same: hashed, verified, 0600', async () => {
      const dir = freshDir();
      const events: string[] = [];
      const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir),
        { onProgress: (e) => events.push(e.phase), byteProgress: false });
      const file = join(dir, manifest.file);
      assert.ok(!events.includes('dumping'), events.join(','));
      assert.ok(events.includes('started') && events.includes('verifying'), events.join(','));
      assert.equal(manifest.sha256, sha256Of(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok((await verifyBackup(manifestPathFor(file), { env: process.env })).ok);
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.partial') || n.endsWith('.tmp')), []);
    });

    if (server.engine === 'postgres') {
      it('restore --jobs 2 runs pg_restore in parallel (not one transaction) into a fresh database, every table identical', async () => {
        const dir = freshDir();
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir));
        const target = await freshTarget();
        const commands: string[][] = [];
        await restoreBackup(manifestPathFor(join(dir, manifest.file)), restoreConfig(), { into: target.name, jobs: 2,
          onProgress: (e) => { if (e.phase === 'restoring') commands.push(e.command); } });
        assert.ok(commands[0].includes('--jobs=2') && !commands[0].includes('--single-transaction'), commands[0].join(' '));
        assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
      });
    } else {
      it('restore --jobs on a SQL dump is a usage error, before the target is touched', async () => {
        const dir = freshDir();
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir));
        const target = await freshTarget();
        await rejectsWith(restoreBackup(manifestPathFor(join(dir, manifest.file)), restoreConfig(), { into: target.name, jobs: 2 }), 'USAGE', /--jobs 2/);
        assert.deepEqual(await target.root.introspect.relationNames(), []);
      });
    }

    describe('restore guards', () => {
      let manifestPath: string;
      let manifest: BackupManifest;
      before(async () => {
        const dir = freshDir();
        manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir));
        manifestPath = manifestPathFor(join(dir, manifest.file));
      });

      it('refuses a tampered file (SHA-256) and leaves the target untouched', async () => {
        const dir = freshDir();
        mkdirSync(dir, { recursive: true });
        const copy = join(dir, manifest.file);
        const bytes = readFileSync(join(manifestPath, '..', manifest.file));
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        writeFileSync(copy, bytes);
        writeFileSync(manifestPathFor(copy), readFileSync(manifestPath));
        const target = await freshTarget();
        await rejectsWith(restoreBackup(manifestPathFor(copy), restoreConfig(), { into: target.name }), 'RESTORE_REFUSED', /SHA-256/);
        assert.deepEqual(await target.root.introspect.relationNames(), []);
      });

      it('refuses a non-empty database unless --force', async () => {
        const target = await freshTarget();
        await target.root.knex.raw('CREATE TABLE unrelated (id INT)');
        await rejectsWith(restoreBackup(manifestPath, restoreConfig(), { into: target.name }), 'RESTORE_REFUSED', /not empty/);
        await restoreBackup(manifestPath, restoreConfig(), { into: target.name, force: true });
        assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
      });

      it('refuses a database at a newer OpenMetadata version unless --force', async () => {
        const target = await freshTarget();
        const restoreInto = () => restoreBackup(manifestPath, restoreConfig(), { into: target.name, force: true });
        await restoreInto();
        const log = server.engine === 'mysql' ? 'SERVER_CHANGE_LOG' : 'server_change_log';
        await target.root.knex.raw(`INSERT INTO ${log} (version, migrationFileName, checksum) VALUES ('1.11.0', 'x', 'y')`);
        await rejectsWith(restoreBackup(manifestPath, restoreConfig(), { into: target.name }), 'RESTORE_REFUSED', /1\.11\.0, newer than the backup's 1\.10\.2/);
        const result = await restoreInto();
        assert.equal(result.openmetadataVersionBefore, '1.11.0');
        assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
      });
    });
  });
}

function canMount(): boolean {
  const probe = mountTmpfs('size=64k');
  probe?.unmount();
  return probe !== undefined;
}
