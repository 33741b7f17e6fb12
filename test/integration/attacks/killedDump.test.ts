import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, cleanEnv, omArgs, runCli } from '../../helpers/cli.js';
import { createScratchDatabase, SERVERS } from '../../helpers/servers.js';
import { alive, waitFor } from '../../helpers/upHarness.js';

/**
 * om-migrate SIGKILLed in the middle of a dump (the OOM killer, kill -9): it cannot clean up. What it leaves must
 * not hold the password for longer than the next run, and the dump tool it orphaned — which here ignores SIGTERM and
 * finishes its dump — must never leave a file that looks like a verified backup.
 */
const top = mkdtempSync(join(tmpdir(), 'omm-killed-dump-'));
after(() => rmSync(top, { recursive: true, force: true }));

/** Every regular file under dir (the private run directories hold the MySQL client option files). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

for (const server of SERVERS) {
  describe(`SIGKILL during a dump: ${server.label}`, () => {
    it('no password left on disk after the next run; the orphaned dump never passes for a backup', async () => {
      const db = await createScratchDatabase(server, 'omm_kill');
      try {
        const base = join(top, server.engine);
        const bin = join(base, 'bin');
        const tmp = join(base, 'tmp');
        const backupDir = join(base, 'backups');
        for (const d of [bin, tmp, backupDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
        const marker = join(base, 'dump.pid');
        const tool = server.engine === 'mysql' ? 'mariadb-dump' : 'pg_dump';
        // The dump tool as a stubborn orphan: ignores SIGTERM (inherited across exec), starts late, then dumps to the end.
        writeFileSync(join(bin, tool), `#!/bin/sh
case "$*" in *--version*) exec /usr/bin/${tool} "$@";; esac
echo $$ > '${marker}'
trap '' TERM
sleep 3
exec /usr/bin/${tool} "$@"
`);
        chmodSync(join(bin, tool), 0o755);
        const { args, env } = omArgs(db.appSpec);
        const runEnv = { ...env, TMPDIR: tmp };
        const child = spawn(process.execPath, [CLI, 'backup', ...args, '--backup-dir', backupDir], {
          env: cleanEnv({ ...runEnv, PATH: `${bin}:${process.env.PATH}` }), stdio: 'ignore',
        });
        const exited = new Promise((r) => child.once('exit', r));
        await waitFor('the dump tool to start', () => existsSync(marker) && readFileSync(marker, 'utf8').trim() !== '', 60_000);
        child.kill('SIGKILL');
        await exited;
        const dumpPid = Number(readFileSync(marker, 'utf8'));
        const secret = db.appSpec.password!;
        const withSecret = () => filesUnder(tmp).filter((f) => readFileSync(f, 'utf8').includes(secret));
        if (server.engine === 'mysql') assert.ok(withSecret().length > 0, 'the killed run could not remove its option file (the premise)');
        // The supervisor outlives om-migrate just long enough: SIGTERM (ignored here), then SIGKILL after the grace period.
        await waitFor('the orphaned dump to end', () => !alive(dumpPid), 60_000);

        const left = readdirSync(backupDir);
        assert.ok(left.every((f) => f.endsWith('.partial')), `only partial names after the kill: ${left.join(', ')}`);
        assert.ok(!left.some((f) => f.includes('.manifest.json')), 'no manifest');

        const next = await runCli(['backup', '--json', ...args, '--backup-dir', backupDir], { env: runEnv });
        assert.equal(next.code, 0, next.stdout + next.stderr);
        assert.deepEqual(withSecret(), [], 'no file under TMPDIR holds the password after the next run');
        const now = readdirSync(backupDir).sort();
        assert.equal(now.length, 2, `one verified dump and its manifest, the dead run's partial file swept: ${now.join(', ')}`);
        assert.ok(now.some((f) => f.endsWith('.manifest.json')) && !now.some((f) => f.endsWith('.partial')));
      } finally {
        await db.drop();
      }
    });
  });
}
