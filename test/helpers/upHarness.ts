import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentOpenMetadataVersion } from '../../src/openmetadata/versions.js';
import { connect } from '../../src/dialects/connect.js';
import type { LedgerEntry } from '../../src/dialects/types.js';
import { createServer, type Server } from 'node:net';
import { CLI, createUpScenario, type ScenarioOptions, type UpScenario } from '../fixtures/upScenario.js';
import { startBinlogMariadb, type BinlogMariadb } from './binlogMariadb.js';
import { SERVERS, type TestServer } from './servers.js';

/** What an om-migrate process left behind: its exit status and output, and its JSON document when it printed one. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The --json document (untyped: the tests assert its shape). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A running om-migrate process, its output so far, and its end. */
export interface LiveRun {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  done: Promise<CliRun>;
}

/** Starts the built CLI with exactly the scenario's environment (plus `extra`), as a container would. */
export function startCli(sc: UpScenario, args: string[], extra: NodeJS.ProcessEnv = {}): LiveRun {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...sc.env, NO_COLOR: '1', ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      let json: unknown;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

export function runCli(sc: UpScenario, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return startCli(sc, args, extra).done;
}

/** Every parameter om-migrate may touch, read through the server's superuser, for exact before/after comparison. */
export async function parameterSnapshot(sc: UpScenario): Promise<Record<string, unknown>> {
  const admin = await connect(sc.server.admin);
  try {
    if (sc.server.engine === 'mysql') {
      const [rows] = await admin.knex.raw(
        'SELECT @@GLOBAL.sort_buffer_size AS sort_buffer_size, @@GLOBAL.log_bin_trust_function_creators AS log_bin_trust_function_creators');
      const row = (rows as Array<Record<string, unknown>>)[0];
      return { sort_buffer_size: String(row.sort_buffer_size), log_bin_trust_function_creators: String(row.log_bin_trust_function_creators) };
    }
    const names = [sc.om.name, sc.airflow.name];
    const roles = [sc.om.appSpec.user, sc.airflow.appSpec.user];
    const settings = await admin.knex.raw(
      `SELECT coalesce(d.datname, '') AS datname, coalesce(r.rolname, '') AS rolname, s.setconfig
         FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole
        WHERE d.datname = ANY(?) OR r.rolname = ANY(?) ORDER BY 1, 2`, [names, roles]);
    const system = await admin.knex.raw("SELECT setting FROM pg_settings WHERE name = 'work_mem'");
    return {
      settings: (settings as { rows: Array<{ datname: string; rolname: string; setconfig: string[] }> }).rows
        .map((r) => `${r.datname}/${r.rolname}: ${r.setconfig.join(',')}`),
      systemWorkMem: (system as { rows: Array<{ setting: string }> }).rows[0].setting,
    };
  } finally {
    await admin.close();
  }
}

/** The parameters are exactly as before, and on PostgreSQL no work_mem setting is left on the scenario's databases. */
export async function assertParametersAsBefore(sc: UpScenario, before: Record<string, unknown>): Promise<void> {
  const now = await parameterSnapshot(sc);
  assert.deepEqual(now, before, 'every server parameter is back at its exact previous value');
  if (sc.server.engine === 'postgres') {
    assert.ok(!(now.settings as string[]).some((s) => /work_mem/.test(s)), `no work_mem setting left: ${JSON.stringify(now.settings)}`);
  }
}

/** The ledger rows in the OpenMetadata database (newest first), or undefined when the table does not exist. */
export async function ledgerRows(sc: UpScenario): Promise<LedgerEntry[] | undefined> {
  const db = await connect(sc.om.rootSpec);
  try {
    return (await db.ledger.exists()) ? await db.ledger.recent(200) : undefined;
  } finally {
    await db.close();
  }
}

/** Steps by name → their statuses, oldest attempt first. */
export function ledgerByStep(rows: LedgerEntry[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of [...rows].reverse()) (out[r.step] ??= []).push(r.status);
  return out;
}

export function backupFiles(sc: UpScenario): string[] {
  return readdirSync(sc.backupDir).map((f) => join(sc.backupDir, f));
}

/** Each dump has its manifest, and every file is readable by its owner only. */
export function assertBackupsPrivate(sc: UpScenario): void {
  const files = backupFiles(sc);
  const dumps = files.filter((f) => !f.endsWith('.manifest.json'));
  assert.ok(dumps.length >= 2, `a dump per database: ${files.join(', ')}`);
  for (const dump of dumps) assert.ok(files.includes(`${dump}.manifest.json`), `${dump} has a manifest`);
  for (const f of files) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is mode 0600`);
}

export async function omVersion(sc: UpScenario): Promise<string | undefined> {
  const db = await connect(sc.om.rootSpec);
  try {
    const versions = (await db.openmetadata.changeLogVersions()) ?? [];
    return currentOpenMetadataVersion(versions);
  } finally {
    await db.close();
  }
}

export async function airflowRevision(sc: UpScenario): Promise<string | null | undefined> {
  const db = await connect(sc.airflow.rootSpec);
  try {
    return await db.airflow.revision();
  } finally {
    await db.close();
  }
}

/** Polls `probe` until it returns something truthy. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The process groups of `pid`'s children: runCommand starts each migrator detached, as the leader of its own group. */
export function childProcessGroups(pid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills om-migrate and its migrator as a container kill does: everything at once, no chance to clean up. */
export function killHard(run: LiveRun): number[] {
  const groups = childProcessGroups(run.child.pid!);
  run.child.kill('SIGKILL');
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return groups;
}

/** The scenario's server as its superuser sees it, for fixtures that need a GLOBAL changed on a throw-away server. */
export async function withGlobal<T>(server: TestServer, name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const admin = await connect(server.admin);
  try {
    const [rows] = await admin.knex.raw(`SELECT @@GLOBAL.${name} AS v`);
    const previous = String((rows as Array<{ v: unknown }>)[0].v);
    await admin.knex.raw(`SET GLOBAL ${name} = ${value}`);
    try {
      return await fn();
    } finally {
      await admin.knex.raw(`SET GLOBAL ${name} = ${previous}`);
    }
  } finally {
    await admin.close();
  }
}

export interface UpTestServers {
  /** The throw-away binlog MariaDB of this test file (started in `before`). */
  binlog(): BinlogMariadb;
  /** Both engines the up tests loop over: the binlog MariaDB (MySQL 8's default set-up) and the local PostgreSQL. */
  engines: Array<{ label: string; server: () => TestServer }>;
  /**
   * An up scenario cleaned up after the file. A half-applied Airflow state past step 2 on the binlog server needs the
   * function created, so the fixture builds it with log_bin_trust_function_creators on, and puts it back to 0.
   */
  scenario(server: TestServer, options?: ScenarioOptions): Promise<UpScenario>;
}

/** The servers and scenario bookkeeping every up test file shares; registers its own before/after hooks. */
export function upTestServers(): UpTestServers {
  let binlog: BinlogMariadb | undefined;
  // Something listening where the migrator looks for the search service, so that its index update after the
  // database succeeds unless a test says otherwise (docs/facts/openmetadata.md, "Search after the database").
  let search: Server | undefined;
  const scenarios: UpScenario[] = [];
  before(async () => {
    binlog = await startBinlogMariadb();
    search = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => search!.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await Promise.allSettled(scenarios.map((s) => s.cleanup()));
    await binlog?.stop();
    // A before() that failed early leaves no search listener: nothing to close, and nothing to wait for.
    if (search) await new Promise((resolve) => search!.close(resolve));
  });
  const searchAddress = () => ({ host: '127.0.0.1', port: (search!.address() as { port: number }).port });
  const binlogServer = (): BinlogMariadb => {
    if (!binlog) throw new Error('the binlog MariaDB is started in before()');
    return binlog;
  };
  return {
    binlog: binlogServer,
    engines: [
      { label: 'MariaDB with binary logging', server: () => binlogServer().server },
      { label: 'PostgreSQL', server: () => SERVERS.find((s) => s.engine === 'postgres')! },
    ],
    async scenario(server, options = {}) {
      const withSearch = { search: searchAddress(), ...options };
      const sc = server === binlog?.server && (options.airflowStoppedAfter ?? 0) > 1
        ? await withGlobal(server, 'log_bin_trust_function_creators', '1', () => createUpScenario(server, withSearch))
        : await createUpScenario(server, withSearch);
      scenarios.push(sc);
      return sc;
    },
  };
}

/**
 * A migrator that will not stop when asked: it traps SIGTERM (and logs it), and every half second logs the parameter
 * om-migrate raised, read as the migrator's own user sees it. The log shows whether the parameter was put back while
 * the migrator still ran. Run it as OM_MIGRATE_OM_COMMAND.
 */
export interface StubbornMigrator {
  /** The OM_MIGRATE_OM_COMMAND that runs it. */
  command: string;
  /** Its process id, once it has started. */
  pid(): number;
  /** Whether it has logged a reading yet. */
  started(): boolean;
  /** Its log: readings ("value …") and "TERM"; a poll cut short by the group's SIGTERM prints no value and is left out. */
  lines(): string[];
  /** A reading of the raised value. */
  raised: RegExp;
}

export function stubbornMigrator(sc: UpScenario, dir: string): StubbornMigrator {
  const log = join(dir, 'watch.log');
  const script = join(dir, 'stubborn.sh');
  writeFileSync(script, `#!/bin/sh
echo $$ > '${dir}/pid'
trap 'echo TERM >> "${log}"' TERM
while :; do
  echo "value $(${readRaised(sc)})" >> '${log}'
  sleep 0.5
done
`);
  const read = (): string => {
    try {
      return readFileSync(log, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    command: `exec /bin/sh '${script}'`,
    pid: () => Number(readFileSync(join(dir, 'pid'), 'utf8')),
    started: () => read().includes('value '),
    lines: () => read().trim().split('\n').filter((l) => l.trim() !== 'value'),
    raised: sc.server.engine === 'mysql' ? /^value 20971520$/ : /^value work_mem=20MB$/,
  };
}

/** A shell command that prints the value om-migrate raised, as the migrator's own user sees it (any user may read it). */
export function readRaised(sc: UpScenario): string {
  if (sc.server.engine === 'mysql') {
    return `MYSQL_PWD="$DB_USER_PASSWORD" mariadb -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -e 'SELECT @@GLOBAL.sort_buffer_size'`;
  }
  return `PGPASSWORD="$DB_USER_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$OM_DATABASE" -Atc "SELECT coalesce((SELECT c FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c WHERE d.datname = current_database() AND s.setrole = 0 AND c LIKE 'work_mem=%'), 'none')"`;
}
