/**
 * Throw-away servers for the benchmarks (never the machine's shared MariaDB/PostgreSQL), CPU pinning with taskset,
 * and a PATH on which the dump and restore tools run pinned to the server's core.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { findExecutable } from '../../src/process/findExecutable.js';
import { freePort } from '../../test/helpers/binlogMariadb.js';
import { startEmbeddedPostgres } from '../../test/helpers/embeddedPostgres.js';
import type { TestServer } from '../../test/helpers/servers.js';

export interface BenchServer {
  server: TestServer;
  /** The server's main process: pin() moves it and every process and thread under it. */
  pid: number;
  stop(): Promise<void>;
}

/** A MariaDB of its own (no binary log, 256 MB buffer pool), root with a password over TCP. */
export async function startBenchMariadb(): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-mariadb-'));
  const uid = Number(spawnSync('id', ['-u', 'mysql']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'mysql']).stdout.toString().trim());
  chownSync(dir, uid, gid);
  const install = spawnSync('mariadb-install-db', ['--user=mysql', `--datadir=${dir}/data`, '--auth-root-authentication-method=socket', '--skip-test-db'],
    { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  // Its own tmpdir: a starting mariadbd deletes the #sql* files in its tmpdir (see test/helpers/binlogMariadb.ts).
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  chownSync(tmp, uid, gid);
  const port = await freePort();
  const socket = join(dir, 'sock');
  const child: ChildProcess = spawn('mariadbd', ['--no-defaults', '--user=mysql', `--datadir=${dir}/data`, `--port=${port}`, `--socket=${socket}`,
    `--tmpdir=${tmp}`, '--bind-address=127.0.0.1', '--innodb-buffer-pool-size=256M', '--innodb-log-file-size=256M', '--skip-name-resolve'],
  { stdio: 'ignore' });
  const password = 'bench-root-pw';
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i += 1) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}`);
      if (spawnSync('mariadb', ['-uroot', '-S', socket, '-e', 'SELECT 1']).status === 0) break;
      if (i > 300) throw new Error('mariadbd did not start in 30 s');
      await sleep(100);
    }
    const setup = spawnSync('mariadb', ['-uroot', '-S', socket], {
      input: `CREATE USER root@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
              DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;`, encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`bench MariaDB setup failed: ${setup.stderr}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const admin: ConnectionSpec = { engine: 'mysql', host: '127.0.0.1', port, user: 'root', password, database: '', params: {}, source: 'bench MariaDB' };
  return { server: { engine: 'mysql', label: 'MariaDB', admin }, pid: child.pid!, stop };
}

/** An embedded PostgreSQL 14 (the machine's pg_dump 15 can dump and restore it). */
export async function startBenchPostgres(): Promise<BenchServer> {
  const pg = await startEmbeddedPostgres(14, { settings: { shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' } });
  const pid = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { server: { ...pg.server, label: 'PostgreSQL' }, pid, stop: pg.stop };
}

export const canPin = (): boolean => findExecutable('taskset', process.env) !== undefined && (spawnSync('nproc').stdout?.toString().trim() ?? '1') !== '1';

/** Moves a process and everything under it (threads, children: PostgreSQL's backends) to `cpus` ("0", "0,1"). */
export function pin(pid: number, cpus: string): void {
  const pids = [pid, ...descendants(pid)];
  for (const p of pids) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(p)], { stdio: 'ignore' });
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of spawnSync('ls', [`/proc/${pid}/task`]).stdout.toString().trim().split(/\s+/)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch { /* gone */ }
  children = [...new Set(children)];
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/**
 * A directory of shims `tool` → `exec taskset -c CPUS /real/tool "$@"` for the dump and restore tools: put first on
 * PATH of the om-migrate process, the tools it starts run on the server's core, as they would beside a remote server.
 */
export function pinnedToolPath(cpus: string): { path: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-shims-'));
  for (const name of ['mariadb-dump', 'mysqldump', 'mariadb', 'mysql', 'pg_dump', 'pg_restore', 'psql']) {
    const real = findExecutable(name, process.env);
    if (!real) continue;
    writeFileSync(join(dir, name), `#!/bin/sh\nexec taskset -c ${cpus} ${real} "$@"\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { path: `${dir}:${process.env.PATH ?? ''}`, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
