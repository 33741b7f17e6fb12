import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import type { UpScenario } from '../../fixtures/upScenario.js';
import { killHard, runCli, startCli, upTestServers, waitFor, type LiveRun } from '../../helpers/upHarness.js';

/**
 * Faults must be told for what they are, with what to do: a database the user may not use is not "a wrong password",
 * a backup directory removed or made read-only under a dump is a failed backup naming the directory (not "unexpected
 * error"), SIGTERM during a restore says what state the database is left in, a server lost during a backup is "the
 * database went away" (13), and names or output holding terminal escape sequences are printed escaped.
 */
const live: LiveRun[] = [];
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
});
const { engines, scenario, binlog } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) {
    try {
      chmodSync(d, 0o700);
    } catch {
      // removed by the test
    }
    rmSync(d, { recursive: true, force: true });
  }
});

/** ESC, CSI, OSC (window title) with BEL, a hyperlink OSC 8 ended by ST, a C1 CSI (U+009B), a carriage return. */
const HOSTILE = 'ev\u001b]0;pwned\u0007il\u001b[2J\u009b31m\u001b]8;;http://x\u001b\\\\ln\rk';
/** A raw control character a terminal acts on (newline and tab aside). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function immutable(dir: string, on: boolean): void {
  const result = spawnSync('chattr', [on ? '+i' : '-i', dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  if (on) after(() => { spawnSync('chattr', ['-i', dir]); });
}

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function asRoot(sc: UpScenario, sql: string[], database?: string): Promise<void> {
  const root = await connect(database ? { ...sc.server.admin, database } : sc.server.admin);
  try {
    for (const s of sql) await root.knex.raw(s);
  } finally {
    await root.close();
  }
}

const q = (sc: UpScenario, name: string) => (sc.server.engine === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`);

/** A database the scenario's OpenMetadata user may use (or, with `reachable: false`, may not); dropped after the file. */
async function extraDatabase(sc: UpScenario, suffix: string, reachable = true): Promise<string> {
  const name = `${sc.om.name}_${suffix}`;
  const user = sc.om.appSpec.user;
  if (sc.server.engine === 'mysql') {
    await asRoot(sc, [`CREATE DATABASE ${q(sc, name)}`, ...(reachable ? ['%', 'localhost'].map((h) => `GRANT ALL ON ${q(sc, name)}.* TO '${user}'@'${h}'`) : [])]);
  } else {
    await asRoot(sc, [`CREATE DATABASE ${q(sc, name)} OWNER ${q(sc, reachable ? user : 'postgres')}`,
      ...(reachable ? [] : [`REVOKE CONNECT ON DATABASE ${q(sc, name)} FROM PUBLIC`])]);
  }
  after(() => asRoot(sc, [`DROP DATABASE IF EXISTS ${q(sc, name)}`]).catch(() => undefined));
  return name;
}

async function omBackup(sc: UpScenario): Promise<string> {
  const run = await runCli(sc, ['backup', '--json']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  return (run.json.result.backups as Array<{ role: string; manifestPath: string }>).find((b) => b.role === 'openmetadata')!.manifestPath;
}

/**
 * Wrappers first on PATH for the dump and restore tools: the real tool, but `before` runs first (for the dump or the
 * restore itself, not for a --version or --schema-only probe).
 */
function slowTools(dir: string, before: string): string {
  const bin = tmp('omm-slow-bin-');
  for (const tool of ['mariadb-dump', 'mysqldump', 'mariadb', 'mysql', 'pg_dump', 'pg_restore', 'psql']) {
    writeFileSync(join(bin, tool), `#!/bin/sh
case "$*" in *--version*|*--schema-only*|*--list*|*-e\\ SELECT*) ;; *) touch '${dir}/started'; ${before} ;; esac
exec /usr/bin/${tool} "$@"
`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

for (const engine of engines) {
  describe(`fault messages: ${engine.label}`, () => {
    it('restore into a database the user may not use: access to the database is denied, not "wrong password"', async () => {
      const sc = await scenario(engine.server());
      const manifest = await omBackup(sc);
      const locked = await extraDatabase(sc, 'locked', false);
      const run = await runCli(sc, ['restore', '--json', '--manifest', manifest, '--into', locked]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'CONNECT');
      assert.doesNotMatch(run.json.error.message, /wrong user or password/);
      assert.match(run.json.error.message, new RegExp(`may not use database "${locked}"`));
      assert.match(run.json.error.hint, /GRANT/);
    });

    it('terminal escape sequences in a table name and in migrator output are printed escaped', async () => {
      const sc = await scenario(engine.server());
      const manifest = await omBackup(sc);
      const into = await extraDatabase(sc, 'esc');
      await asRoot(sc, [`CREATE TABLE ${q(sc, `t${HOSTILE}`.slice(0, 60))} (id INT)`], into);
      const refused = await runCli(sc, ['restore', '--manifest', manifest, '--into', into]);
      assert.equal(refused.code, 7, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /not empty/);
      assert.doesNotMatch(refused.stdout + refused.stderr, RAW_CONTROL, JSON.stringify(refused.stderr));
      assert.match(refused.stderr, /\\x1b\]0;pwned\\x07/, 'shown, escaped');
      const json = await runCli(sc, ['restore', '--json', '--manifest', manifest, '--into', into]);
      assert.doesNotMatch(json.stdout, RAW_CONTROL, 'nor raw in --json (C1 characters escaped too)');
      assert.match(json.json.error.message, /pwned/);

      const up = await runCli(sc, ['up'], {
        OM_MIGRATE_OM_COMMAND: `printf 'migrator says ${HOSTILE.replace(/\\/g, '\\\\\\\\').replace(/\u001b/g, '\\033').replace(/\u0007/g, '\\007').replace(/\u009b/g, '\\302\\233').replace(/\r/g, '\\r')}\\n' >&2; exec ./bootstrap/openmetadata-ops.sh migrate`,
      });
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.match(up.stderr, /migrator says ev\\x1b\]0;pwned/);
      assert.doesNotMatch(up.stdout + up.stderr, RAW_CONTROL, JSON.stringify(up.stderr.slice(0, 2000)));
    });

    it('SIGTERM during restore: exit 130, saying what state the database is in', async () => {
      const sc = await scenario(engine.server());
      const manifest = await omBackup(sc);
      const into = await extraDatabase(sc, 'sig');
      const dir = tmp('omm-sig-');
      const bin = slowTools(dir, 'sleep 60');
      const run = startCli(sc, ['restore', '--manifest', manifest, '--into', into], { PATH: `${bin}:${process.env.PATH}` });
      live.push(run);
      await waitFor('the restore client to start', () => existsSync(join(dir, 'started')), 60_000);
      run.child.kill('SIGTERM');
      const done = await run.done;
      assert.equal(done.code, 130, done.stdout + done.stderr);
      assert.match(done.stderr, /restore into .* interrupted/);
      assert.match(done.stderr, sc.server.engine === 'postgres' ? /one transaction.*as it was/ : /partly restored.*--force/);
    });

    for (const fault of ['removed', 'made read-only'] as const) {
      it(`the backup directory ${fault} during the dump: exit 6 naming it, no partial file left where one can be removed`, async () => {
        const sc = await scenario(engine.server());
        const dir = tmp('omm-dirfault-');
        const bin = slowTools(dir, 'sleep 3');
        const run = startCli(sc, ['backup', '--json'], { PATH: `${bin}:${process.env.PATH}` });
        live.push(run);
        await waitFor('the dump to start', () => existsSync(join(dir, 'started')), 60_000);
        // The tests run as root, whom a mode does not stop: an immutable directory refuses root too.
        if (fault === 'removed') rmSync(sc.backupDir, { recursive: true, force: true });
        else immutable(sc.backupDir, true);
        const done = await run.done;
        if (fault === 'made read-only') immutable(sc.backupDir, false);
        assert.equal(done.code, 6, done.stdout + done.stderr);
        assert.equal(done.json.error.code, 'BACKUP_FAILED');
        assert.ok(done.json.error.message.includes(sc.backupDir), done.json.error.message);
        if (fault === 'removed') {
          assert.equal(existsSync(sc.backupDir), false, 'not made again behind the operator\'s back');
        } else {
          const partial = readdirSync(sc.backupDir).filter((f) => f.endsWith('.partial'));
          // A read-only directory's entries cannot be removed: then the message names what is left.
          for (const p of partial) assert.ok(done.json.error.message.includes(p), `${p} is named: ${done.json.error.message}`);
        }
      });
    }
  });
}

/** mariadb-dump or pg_dump through a pipe the wrapper holds for a while: the tool is mid-dump, blocked on its output. */
function heldDump(tool: 'mariadb-dump' | 'pg_dump', dir: string): string {
  const bin = tmp('omm-crash-bin-');
  writeFileSync(join(bin, tool), `#!/bin/sh
case "$*" in *--version*|*--schema-only*) exec /usr/bin/${tool} "$@" ;; esac
{ /usr/bin/${tool} "$@"; echo $? > '${dir}/status'; } | { touch '${dir}/started'; sleep 3; cat; }
exit $(cat '${dir}/status')
`);
  chmodSync(join(bin, tool), 0o755);
  return bin;
}

async function serverLostDuringBackup(sc: UpScenario, tool: 'mariadb-dump' | 'pg_dump', crash: () => Promise<void>): Promise<void> {
  // Enough rows (that compress poorly) that the dump is still reading them when the server goes.
  const pad = sc.server.engine === 'mysql' ? "REPEAT(MD5(RAND()), 16384)" : "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 16384))";
  await asRoot(sc, [`CREATE TABLE filler (id INT PRIMARY KEY, pad ${sc.server.engine === 'mysql' ? 'LONGTEXT' : 'TEXT'})`,
    ...Array.from({ length: 8 }, (_, i) => `INSERT INTO filler VALUES (${i}, ${pad})`)], sc.om.name);
  const dir = tmp('omm-crash-');
  const run = startCli(sc, ['backup', '--json'], { PATH: `${heldDump(tool, dir)}:${process.env.PATH}` });
  live.push(run);
  await waitFor('the dump to start', () => existsSync(join(dir, 'started')), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await crash();
  const done = await run.done;
  assert.equal(done.code, 13, done.stdout + done.stderr);
  assert.equal(done.json.error.code, 'DB_UNAVAILABLE');
  assert.match(done.json.error.message, /lost the database server/);
  assert.match(done.json.error.hint, /run .*backup again|again once it is back/);
  assert.deepEqual(readdirSync(sc.backupDir).filter((f) => f.endsWith('.partial')), []);
}

describe('the database server lost during a backup (throw-away MariaDB; PostgreSQL not done, see the attack matrix)', () => {
  it('MariaDB: exit 13 (the database went away), not a failed backup to fix; no partial file left', async () => {
    const server = binlog();
    const sc = await scenario(server.server);
    await serverLostDuringBackup(sc, 'mariadb-dump', () => server.crash());
    await server.restart();
  });

});
