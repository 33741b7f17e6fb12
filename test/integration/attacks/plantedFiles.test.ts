import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backupFileName, manifestPathFor, runBackup } from '../../../src/backup/index.js';
import { connect } from '../../../src/dialects/connect.js';
import { isOmMigrateError } from '../../../src/errors.js';
import { omArgs, runCli } from '../../helpers/cli.js';
import { createScratchDatabase, SERVERS } from '../../helpers/servers.js';

/**
 * Another local user plants links where om-migrate (often root) is about to write: the partial dump file, the final
 * name, the manifest's old temporary name. None may be followed; and a backup directory that anyone may write and that
 * is not ours is refused before anything is written.
 */
const top = mkdtempSync(join(tmpdir(), 'omm-planted-'));
after(() => rmSync(top, { recursive: true, force: true }));

const config = (backupDir: string) => ({ backupDir, backupCompress: 'none' as const, backupKeep: undefined, env: process.env });

for (const server of SERVERS) {
  describe(`planted files: ${server.label}`, () => {
    it('links planted at the partial, final and manifest-temporary names are never followed', async () => {
      const db = await createScratchDatabase(server, 'omm_plant');
      const app = await connect(db.appSpec);
      try {
        const dir = join(top, `${server.engine}-links`);
        mkdirSync(dir, { mode: 0o700 });
        const victim = join(top, `${server.engine}-victim`);
        writeFileSync(victim, 'precious\n');
        // The clock is fixed, and this process is the one that writes: every name om-migrate will use is predictable.
        const at = new Date('2031-02-03T04:05:06Z');
        const first = join(dir, backupFileName(db.name, undefined, server.engine, at, 'none', 1));
        const planted = [
          `${first}.${hostname().replace(/[^A-Za-z0-9-]/g, '_')}.${process.pid}.partial`,
          `${manifestPathFor(first)}.partial`,
          `${first}.partial`,
        ];
        for (const p of planted) symlinkSync(victim, p);
        const manifest = await runBackup({ role: 'openmetadata', dialect: app }, config(dir), { now: () => at });
        assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the file the links point at is untouched');
        for (const p of planted) assert.ok(lstatSync(p).isSymbolicLink(), `${p} is still the planted link, not written through`);
        const file = join(dir, manifest.file);
        assert.ok(lstatSync(file).isFile() && !lstatSync(file).isSymbolicLink(), 'the backup is a file of its own');
        assert.equal(lstatSync(file).mode & 0o777, 0o600);
        assert.ok(lstatSync(manifestPathFor(file)).isFile());

        // A link at the final name itself: the next backup of that second takes another name.
        assert.equal(manifest.file, backupFileName(db.name, undefined, server.engine, at, 'none', 2), 'the planted partial name was skipped');
        const taken = join(dir, backupFileName(db.name, undefined, server.engine, at, 'none', 3));
        symlinkSync(victim, taken);
        const again = await runBackup({ role: 'openmetadata', dialect: app }, config(dir), { now: () => at });
        assert.equal(again.file, backupFileName(db.name, undefined, server.engine, at, 'none', 4), 'past the backup (2) and the link (3)');
        assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
        assert.ok(lstatSync(taken).isSymbolicLink());
      } finally {
        await app.close();
        await db.drop();
      }
    });

    it('a world-writable backup directory owned by someone else is refused (exit 6), nothing written', async () => {
      const db = await createScratchDatabase(server, 'omm_plant');
      try {
        const dir = join(top, `${server.engine}-shared`);
        mkdirSync(dir);
        chmodSync(dir, 0o1777);
        // Someone else's: as root, hand it to nobody; as an ordinary user, the test cannot make such a directory.
        if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
        const { args, env } = omArgs(db.appSpec);
        const run = await runCli(['backup', ...args, '--backup-dir', dir], { env, cwd: top });
        if (process.getuid?.() !== 0) return;
        assert.equal(run.code, 6, run.stdout + run.stderr);
        assert.match(run.stderr, /writable by every user and owned by uid 65534/);
        assert.match(run.stderr, /fix: Use a directory of your own/);
        assert.deepEqual(readdirSync(dir), [], 'nothing was written there');

        const json = await runCli(['backup', '--json', ...args, '--backup-dir', dir], { env, cwd: top });
        assert.equal(JSON.parse(json.stdout).error.code, 'BACKUP_FAILED');

        // Through the library too (up takes its backups this way).
        const app = await connect(db.appSpec);
        try {
          await assert.rejects(runBackup({ role: 'openmetadata', dialect: app }, config(dir)), (e: unknown) => isOmMigrateError(e) && e.code === 'BACKUP_FAILED');
        } finally {
          await app.close();
        }
        // Its own world-writable directory is the owner's choice.
        chownSync(dir, process.getuid!(), process.getgid!());
        const own = await runCli(['backup', ...args, '--backup-dir', dir], { env, cwd: top });
        assert.equal(own.code, 0, own.stdout + own.stderr);
      } finally {
        await db.drop();
      }
    });

    it('a backup directory another user owns, even mode 0755, is refused (exit 6), nothing written (issue 21, point 14)', async () => {
      // Only root can make a directory that is someone else's and still write into it.
      if (process.getuid?.() !== 0) return;
      const db = await createScratchDatabase(server, 'omm_plant');
      try {
        const dir = join(top, `${server.engine}-theirs`);
        mkdirSync(dir);
        chmodSync(dir, 0o755);
        chownSync(dir, 65534, 65534);
        const { args, env } = omArgs(db.appSpec);
        const run = await runCli(['backup', ...args, '--backup-dir', dir], { env, cwd: top });
        assert.deepEqual(readdirSync(dir), [], 'nothing was written there: its owner could swap the backup before a restore');
        assert.equal(run.code, 6, run.stdout + run.stderr);
        assert.match(run.stderr, /is owned by uid 65534, not this user \(uid 0\) or root: its owner could swap or remove the backups there/);
        assert.match(run.stderr, /fix: Use a directory of your own/);
        const app = await connect(db.appSpec);
        try {
          await assert.rejects(runBackup({ role: 'openmetadata', dialect: app }, config(dir)), (e: unknown) => isOmMigrateError(e) && e.code === 'BACKUP_FAILED');
        } finally {
          await app.close();
        }
        assert.deepEqual(readdirSync(dir), []);
      } finally {
        await db.drop();
      }
    });
  });
}
