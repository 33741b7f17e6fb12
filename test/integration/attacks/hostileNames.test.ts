import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { connect } from '../../../src/dialects/connect.js';
import type { Dialect } from '../../../src/dialects/types.js';
import { omArgs, runCli } from '../../helpers/cli.js';
import { SERVERS, type TestServer } from '../../helpers/servers.js';

/**
 * Database names are data. `dbname=victim` is a libpq connection string, `-x…` a dump-tool option, `../x` and `a/b`
 * paths: each must reach its own database, land its backup inside --backup-dir under a name that exists, and restore
 * must check (and fill) the very database it names.
 */
const top = mkdtempSync(join(tmpdir(), 'omm-names-'));
after(() => rmSync(top, { recursive: true, force: true }));

/** Flags with the value attached (`--database=-x…`), so that yargs itself cannot take a name for a flag. */
function dbArgs(server: TestServer, database: string): { args: string[]; env: Record<string, string> } {
  const { args, env } = omArgs({ ...server.admin, database });
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 2) out.push(`${args[i]}=${args[i + 1]}`);
  return { args: out, env };
}

function quote(server: TestServer, name: string): string {
  return server.engine === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

async function tablesOf(server: TestServer, database: string): Promise<string[]> {
  const d = await connect({ ...server.admin, database, source: 'test' });
  try {
    return (await d.introspect.relationNames()).map((n) => n.replace(/^public\./, '')).sort();
  } finally {
    await d.close();
  }
}

for (const server of SERVERS) {
  describe(`hostile database names: ${server.label}`, () => {
    const tag = randomBytes(3).toString('hex');
    const victim = `omm_victim_${tag}`;
    const names = {
      connString: server.engine === 'postgres' ? `dbname=${victim}` : undefined,
      option: `-x_omm_${tag}`,
      parentPath: `../omm_up_${tag}`,
      slash: `omm_a/b_${tag}`,
    };
    const created: string[] = [];
    let root: Dialect;
    const parent = join(top, server.engine);
    mkdirSync(parent);

    after(async () => {
      for (const n of created) await root.knex.raw(`DROP DATABASE IF EXISTS ${quote(server, n)}`).catch(() => undefined);
      await root?.close();
    });

    async function create(name: string, table?: string): Promise<void> {
      root ??= await connect(server.admin);
      await root.knex.raw(`CREATE DATABASE ${quote(server, name)}`);
      created.push(name);
      if (!table) return;
      const d = await connect({ ...server.admin, database: name, source: 'test' });
      try {
        await d.knex.raw(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
        await d.knex.raw(`INSERT INTO ${table} VALUES (1)`);
      } finally {
        await d.close();
      }
    }

    async function backup(name: string, dir: string) {
      const { args, env } = dbArgs(server, name);
      return runCli(['backup', '--json', ...args, '--backup-dir', dir], { env, cwd: parent });
    }

    /** The tables a dump file holds, as the dump tool wrote them. */
    function dumpedTables(file: string): string {
      if (server.engine === 'mysql') return readFileSync(file, 'utf8').match(/^CREATE TABLE `[^`]+`/gm)?.join('\n') ?? '';
      return spawnSync('pg_restore', ['--list', '--', file], { encoding: 'utf8' }).stdout;
    }

    for (const [kind, name] of Object.entries(names)) {
      if (!name) continue;
      it(`${kind}: "${name}" is backed up from itself, inside --backup-dir, at the path printed`, async () => {
        const marker = `own_${kind.toLowerCase()}_${tag}`;
        if (kind === 'connString') await create(victim, `wrongtable_${tag}`);
        await create(name, marker);
        const dir = join(parent, `backups-${kind}`);
        mkdirSync(dir, { mode: 0o700 });
        const run = await backup(name, dir);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const [b] = JSON.parse(run.stdout).result.backups;
        assert.equal(b.database, name, 'the manifest names the database as it is');
        assert.ok(existsSync(b.path), `the printed path exists: ${b.path}`);
        assert.ok(resolve(b.path).startsWith(`${resolve(dir)}/`), `${b.path} is inside ${dir}`);
        assert.deepEqual(readdirSync(parent).sort(), readdirSync(parent).filter((f) => f.startsWith('backups-')).sort(),
          'nothing was written beside --backup-dir');
        const tables = dumpedTables(b.path);
        assert.match(tables, new RegExp(marker), `the dump holds ${name}'s own table`);
        assert.doesNotMatch(tables, /wrongtable_/, 'and nothing of another database');
      });
    }

    it('restore --into a hostile name checks and fills that very database, never the one its name points at', async () => {
      const source = `omm_src_${tag}`;
      await create(source, `src_${tag}`);
      const dir = join(parent, 'backups-restore');
      mkdirSync(dir, { mode: 0o700 });
      const made = await backup(source, dir);
      assert.equal(made.code, 0, made.stdout + made.stderr);
      const manifest = JSON.parse(made.stdout).result.backups[0].manifestPath as string;
      // The empty database whose name reads as another (non-empty) one: the guard must look at the empty one, and
      // the restore must land there.
      const into = server.engine === 'postgres' ? `dbname=omm_full_${tag}` : `-x_omm_into_${tag}`;
      const full = `omm_full_${tag}`;
      await create(full, `precious_${tag}`);
      await create(into);
      const { args, env } = dbArgs(server, source);
      const restored = await runCli(['restore', '--manifest', manifest, `--into=${into}`, ...args], { env, cwd: parent });
      assert.equal(restored.code, 0, restored.stdout + restored.stderr);
      assert.deepEqual(await tablesOf(server, into), [`src_${tag}`], 'restored into the database named');
      assert.deepEqual(await tablesOf(server, full), [`precious_${tag}`], 'the database the name points at is untouched');
      // Now it is not empty: the guard holds for the same hostile name.
      const again = await runCli(['restore', '--manifest', manifest, `--into=${into}`, ...args], { env, cwd: parent });
      assert.equal(again.code, 7, again.stdout + again.stderr);
      assert.match(again.stderr, /not empty/);
    });
  });
}
