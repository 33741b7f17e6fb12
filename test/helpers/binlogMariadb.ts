import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { connect } from '../../src/dialects/connect.js';
import type { TestServer } from './servers.js';

/**
 * A throw-away MariaDB with binary logging on, like MySQL 8's default, started by the test itself (docs/facts/parameters.md:
 * "Test servers on this kind of machine"). Its root has a password and reaches it over TCP.
 */
export interface BinlogMariadb {
  server: TestServer;
  port: number;
  /** Its Unix socket (@@socket), for clients that should reach it as localhost. */
  socket: string;
  /** An outage: SIGKILL to mariadbd, data kept (what a crash or an OOM kill does). */
  crash(): Promise<void>;
  /** Starts it again on the same data directory and port, after crash(). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startBinlogMariadb(): Promise<BinlogMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'omm-binlog-'));
  const mysqlUid = Number(spawnSync('id', ['-u', 'mysql']).stdout.toString().trim());
  const mysqlGid = Number(spawnSync('id', ['-g', 'mysql']).stdout.toString().trim());
  chownSync(dir, mysqlUid, mysqlGid);
  const install = spawnSync('mariadb-install-db', ['--user=mysql', `--datadir=${dir}/data`, '--auth-root-authentication-method=socket',
    '--skip-test-db'], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  // Its own tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir, which with the default /tmp would pull
  // the temporary tables out from under the machine's MariaDB and any other throw-away server mid-query.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  chownSync(tmp, mysqlUid, mysqlGid);
  const port = await freePort();
  const socket = join(dir, 'sock');
  const launch = (): ChildProcess => spawn('mariadbd', ['--no-defaults', '--user=mysql', `--datadir=${dir}/data`, `--port=${port}`,
    `--socket=${socket}`, `--tmpdir=${tmp}`, `--log-bin=${dir}/data/binlog`, '--server-id=1', '--bind-address=127.0.0.1',
    '--innodb-buffer-pool-size=32M', '--skip-name-resolve'], { stdio: 'ignore', detached: false });
  let child = launch();
  const password = 'binlog-root-pw';
  const crash = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const restart = async () => {
    child = launch();
    await waitForSocket(socket, child);
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocket(socket, child);
    const setup = spawnSync('mariadb', ['-uroot', '-S', socket], {
      input: `ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('${password}') OR unix_socket;
              CREATE USER root@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
              DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;`,
      encoding: 'utf8',
    });
    if (setup.status !== 0) throw new Error(`setting the binlog server's root password failed: ${setup.stderr}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const admin: ConnectionSpec = {
    engine: 'mysql', host: '127.0.0.1', port, user: 'root', password, database: '', params: {}, source: 'test binlog server',
  };
  return { server: { engine: 'mysql', label: 'MariaDB with binary logging', admin }, port, socket, crash, restart, stop };
}

async function waitForSocket(socket: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode} before it was ready`);
    const probe = spawnSync('mariadb', ['-uroot', '-S', socket, '-e', 'SELECT 1'], { encoding: 'utf8' });
    if (probe.status === 0) return;
    await sleep(100);
  }
  throw new Error('mariadbd did not become ready in 30 s');
}

/** Whether `spec` reaches a server with binary logging on (for assertions in tests). */
export async function binlogOn(spec: ConnectionSpec): Promise<boolean> {
  const d = await connect(spec);
  try {
    return await d.params.binaryLogging();
  } finally {
    await d.close();
  }
}
