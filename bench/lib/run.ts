/** What the benchmarks share: a generated database, timed children, om-migrate's own usage, the hash floor. */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import type { BenchServer } from './servers.js';

const USAGE = fileURLToPath(new URL('./ownUsage.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./hashFloor.js', import.meta.url));
const ROW_BYTES = 4096;

export interface BenchDatabase { spec: ConnectionSpec; db: Dialect; info: Awaited<ReturnType<Dialect['serverInfo']>>; tool: ReturnType<Dialect['dumpTool']['locate']> }

/**
 * A database owned by an ordinary user, `sizeMb` of ~4 KB rows of hex text (about 2:1 compressible, like JSON), in one
 * table `bench` or, with `tables` > 1, spread evenly over bench_01 … bench_NN (`largestShare`: that fraction of the rows
 * in bench_01, the rest spread over the others, as one huge table dominates a real catalogue).
 */
export async function benchDatabase(server: BenchServer, name: string, sizeMb: number,
  options: { tables?: number; largestShare?: number } = {}): Promise<BenchDatabase> {
  const user = `${name}_app`;
  const password = `pw-${name}`;
  const admin = await connect(server.server.admin);
  try {
    if (admin.engine === 'mysql') {
      await admin.knex.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await admin.knex.raw(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
      await admin.knex.raw(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${user}'@'%'`);
    } else {
      await admin.knex.raw(`CREATE ROLE "${user}" LOGIN PASSWORD '${password}'`);
      await admin.knex.raw(`CREATE DATABASE "${name}" OWNER "${user}"`);
    }
  } finally {
    await admin.close();
  }
  const spec: ConnectionSpec = { ...server.server.admin, user, password, database: name, source: 'bench' };
  const db = await connect(spec);
  const t0 = Date.now();
  const tables = await generateTables(db, Math.ceil((sizeMb * 1024 * 1024) / ROW_BYTES), options.tables ?? 1, options.largestShare);
  for (const table of tables) await db.knex.raw(db.engine === 'mysql' ? `ANALYZE TABLE ${table}` : `VACUUM ANALYZE ${table}`);
  console.log(`  generated ${name} (${sizeMb} MB) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const info = await db.serverInfo();
  const tool = db.dumpTool.locate(info, process.env);
  if (tool.problem) throw new Error(tool.problem);
  return { spec, db, info, tool };
}

/** `rows` rows over `tables` tables (see benchDatabase); returns the tables' names. */
export async function generateTables(db: Dialect, rows: number, tables: number, largestShare?: number): Promise<string[]> {
  if (tables <= 1) {
    await generate(db, rows);
    return ['bench'];
  }
  const names = Array.from({ length: tables }, (_, i) => `bench_${String(i + 1).padStart(2, '0')}`);
  const first = largestShare === undefined ? Math.ceil(rows / tables) : Math.ceil(rows * largestShare);
  const rest = Math.ceil((rows - first) / (tables - 1));
  for (const [i, name] of names.entries()) await generate(db, i === 0 ? first : rest, name);
  return names;
}

export async function generate(db: Dialect, rows: number, table = 'bench'): Promise<void> {
  const batch = 20_000;
  await db.knex.raw(db.engine === 'mysql'
    ? `CREATE TABLE ${table} (id BIGINT PRIMARY KEY, json LONGTEXT NOT NULL) ENGINE=InnoDB`
    : `CREATE TABLE ${table} (id BIGINT PRIMARY KEY, json TEXT NOT NULL)`);
  // PostgreSQL would compress the repeated text in TOAST; store it plain so the on-disk size is what we asked for.
  if (db.engine === 'postgres') await db.knex.raw(`ALTER TABLE ${table} ALTER COLUMN json SET STORAGE EXTERNAL`);
  for (let start = 1; start <= rows; start += batch) {
    const end = Math.min(start + batch - 1, rows);
    await db.knex.raw(db.engine === 'mysql'
      ? `INSERT INTO ${table} SELECT seq, CONCAT('{"v":"', REPEAT(CONCAT(SHA2(RAND(), 256), MD5(RAND())), 42), '"}') FROM seq_${start}_to_${end}`
      // Hex that does not repeat within a row: pg_dump -Fc compresses (about 2:1 here, as JSON), a repeated string it would
      // shrink to nothing.
      : `INSERT INTO ${table} SELECT g, '{"v":"' || (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 127) s) || '"}'
           FROM generate_series(${start}, ${end}) g`);
  }
}

/** `argv` as a child, on `cpus` when given; resolves with its wall seconds. */
export function timed(argv: string[], options: { env?: NodeJS.ProcessEnv; cpus?: string; stdout?: number | 'ignore' | 'pipe'; stdin?: number; cwd?: string } = {}): Promise<{ seconds: number; out: string; err: string }> {
  const full = options.cpus ? ['taskset', '-c', options.cpus, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => { out += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { err += t; });
  return new Promise((resolve, reject) => child.on('close', (code) => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (code !== 0) reject(new Error(`${argv.slice(0, 3).join(' ')} exited ${code}: ${err || out.slice(-2000)}`));
    else resolve({ seconds, out, err });
  }));
}

export interface OwnRun { seconds: number; cpuSeconds: number; userSeconds: number; systemSeconds: number; peakRssMb: number; out: string }

/** The om-migrate CLI with ownUsage preloaded: its wall time, its own CPU and peak RSS. */
export async function ownRun(cli: string, cliArgs: string[], env: NodeJS.ProcessEnv, cpus: string | undefined, usageFile: string): Promise<OwnRun> {
  const r = await timed([process.execPath, '--import', USAGE, cli, ...cliArgs], { env: { ...env, OMM_BENCH_USAGE_FILE: usageFile }, cpus });
  const u = JSON.parse(readFileSync(usageFile, 'utf8')) as { userUs: number; systemUs: number; maxRssKb: number };
  rmSync(usageFile, { force: true });
  return { seconds: r.seconds, userSeconds: u.userUs / 1e6, systemSeconds: u.systemUs / 1e6, cpuSeconds: (u.userUs + u.systemUs) / 1e6, peakRssMb: u.maxRssKb / 1024, out: r.out };
}

export async function hashFloor(bytes: number, cpus: string | undefined): Promise<number> {
  return (JSON.parse((await timed([process.execPath, FLOOR, String(bytes)], { cpus })).out) as { cpuSeconds: number }).cpuSeconds;
}

