import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { omArgs, runCli } from '../../helpers/cli.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase, type TestServer } from '../../helpers/servers.js';

/**
 * `restore` runs the mysql/mariadb client over a SQL dump, as root often, or pg_restore over an archive. A dump that
 * is not what the dump tool wrote for om-migrate — MySQL's mysqldump or an older mariadb-dump (no MariaDB sandbox
 * line), a table name with a line break written raw, an edited file whose manifest was rewritten to match — must not
 * run a shell (`\!`, `system`) or leave the database it restores (`USE other`); and a backup that another user could
 * have written proves nothing by matching its own manifest (issue 21, point 13). Shared servers: nothing here changes
 * a global.
 */
const top = mkdtempSync(join(tmpdir(), 'omm-hostile-dump-'));
after(() => rmSync(top, { recursive: true, force: true }));

async function tablesOf(server: TestServer, database: string): Promise<string[]> {
  const root = await connect({ ...server.admin, database: server.engine === 'postgres' ? database : '' });
  try {
    if (server.engine === 'mysql') {
      const [rows] = await root.knex.raw('SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [database]);
      return (rows as Array<{ n: string }>).map((r) => r.n);
    }
    const result = await root.knex.raw("SELECT tablename AS n FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    return (result as { rows: Array<{ n: string }> }).rows.map((r) => r.n);
  } finally {
    await root.close();
  }
}

/** A database with one table, backed up by om-migrate into a private directory; the manifest's path. */
async function backedUp(db: ScratchDatabase, dir: string): Promise<string> {
  const root = await connect(db.rootSpec);
  try {
    await root.knex.raw('CREATE TABLE kept (id INT PRIMARY KEY, note VARCHAR(40))');
    await root.knex.raw("INSERT INTO kept VALUES (1, 'one'), (2, 'two')");
    if (db.server.engine === 'postgres') await root.knex.raw(`ALTER TABLE kept OWNER TO "${db.appSpec.user}"`);
  } finally {
    await root.close();
  }
  mkdirSync(dir, { mode: 0o700 });
  const { args, env } = omArgs(db.appSpec);
  const backup = await runCli(['backup', '--json', ...args, '--backup-dir', dir], { env, cwd: top });
  assert.equal(backup.code, 0, backup.stdout + backup.stderr);
  return readdirSync(dir).filter((f) => f.endsWith('.manifest.json')).map((f) => join(dir, f))[0];
}

/** An empty database the application user may fill (PostgreSQL: its own). */
async function emptyDatabase(db: ScratchDatabase, suffix: string): Promise<string> {
  const name = `${db.name}_${suffix}`;
  const root = await connect(db.server.admin);
  try {
    if (db.server.engine === 'mysql') {
      await root.knex.raw(`CREATE DATABASE \`${name}\``);
      for (const host of ['%', 'localhost']) await root.knex.raw(`GRANT ALL ON \`${name}\`.* TO ?@?`, [db.appSpec.user, host]);
    } else {
      await root.knex.raw(`CREATE DATABASE "${name}" OWNER "${db.appSpec.user}"`);
    }
  } finally {
    await root.close();
  }
  return name;
}

async function dropDatabase(server: TestServer, name: string): Promise<void> {
  const root = await connect(server.admin);
  try {
    await root.knex.raw(server.engine === 'mysql' ? `DROP DATABASE IF EXISTS \`${name}\`` : `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await root.close();
  }
}

const mysql = SERVERS.find((s) => s.engine === 'mysql')!;

describe('restore of a SQL dump that is not what the dump tool wrote: MariaDB', () => {
  it('no sandbox line, `\\!`, `system` and `USE other`: refused before the client starts (exit 7); no shell ran, no other database was filled', async () => {
    const db = await createScratchDatabase(mysql, 'omm_hdump');
    const into = await emptyDatabase(db, 'into');
    const other = await emptyDatabase(db, 'other');
    try {
      const manifestPath = await backedUp(db, join(top, `${db.name}-forged`));
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { file: string; sha256: string; bytes: number; dumpBytes: number };
      const dumpPath = join(top, `${db.name}-forged`, manifest.file);
      const shell1 = join(top, `${db.name}-shell-1`);
      const shell2 = join(top, `${db.name}-shell-2`);
      const lines = readFileSync(dumpPath, 'utf8').split('\n');
      assert.match(lines[0], /sandbox mode/, 'mariadb-dump wrote its sandbox line');
      // What MySQL's mysqldump, an older mariadb-dump, or a hand wrote; the manifest is rewritten to match.
      const forged = [...lines.slice(1, 6), `\\! touch ${shell1}`, `system touch ${shell2}`, `USE \`${other}\`;`, ...lines.slice(6)].join('\n');
      writeFileSync(dumpPath, forged);
      const bytes = Buffer.byteLength(forged);
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, sha256: createHash('sha256').update(forged).digest('hex'), bytes, dumpBytes: bytes }, null, 2));

      const { args, env } = omArgs(db.appSpec);
      const run = await runCli(['restore', '--manifest', manifestPath, `--into=${into}`, ...args], { env, cwd: top });
      assert.equal(existsSync(shell1) || existsSync(shell2), false, `no shell command ran\n${run.stdout}${run.stderr}`);
      assert.deepEqual(await tablesOf(mysql, other), [], 'the other database was not filled');
      assert.deepEqual(await tablesOf(mysql, into), [], 'nothing was restored: the client never started');
      assert.equal(run.code, 7, run.stdout + run.stderr);
      assert.match(run.stderr, /holds what a dump of one database never does: line 6: the client command \\! /);
      assert.match(run.stderr, /a USE statement \(USE `[^`]+_other`\)/);

      // The same dump as mariadb-dump wrote it restores, through the client's --binary-mode.
      const clean = [...lines].join('\n');
      writeFileSync(dumpPath, clean);
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
      const ok = await runCli(['restore', '--manifest', manifestPath, `--into=${into}`, ...args], { env, cwd: top });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.deepEqual(await tablesOf(mysql, into), ['kept']);
      assert.deepEqual(await tablesOf(mysql, other), []);
    } finally {
      await dropDatabase(mysql, into);
      await dropDatabase(mysql, other);
      await db.drop();
    }
  });
});

for (const server of SERVERS) {
  describe(`restore of a backup another user could have written: ${server.label}`, () => {
    it('a manifest and dump owned by uid 65534, in its directory: refused before anything (exit 7), nothing restored', async () => {
      if (process.getuid?.() !== 0) return; // only root can hand files to another user
      const db = await createScratchDatabase(server, 'omm_hdump');
      const into = await emptyDatabase(db, 'into');
      try {
        const dir = join(top, `${db.name}-theirs`);
        const manifestPath = await backedUp(db, dir);
        for (const f of readdirSync(dir)) chownSync(join(dir, f), 65534, 65534);
        chownSync(dir, 65534, 65534);
        chmodSync(dir, 0o755);
        const { args, env } = omArgs(db.appSpec);
        const run = await runCli(['restore', '--manifest', manifestPath, `--into=${into}`, ...args], { env, cwd: top });
        assert.deepEqual(await tablesOf(server, into), [], `nothing was restored\n${run.stdout}${run.stderr}`);
        assert.equal(run.code, 7, run.stdout + run.stderr);
        assert.match(run.stderr, /is owned by uid 65534, not by this user \(uid 0\) or root: another user could have written the backup or its manifest/);
        assert.match(run.stderr, /fix: Restore from a copy in a directory of your own/);
      } finally {
        await dropDatabase(server, into);
        await db.drop();
      }
    });
  });
}
