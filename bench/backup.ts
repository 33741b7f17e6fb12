/**
 * bench:backup — wall time of `om-migrate backup` (the CLI, a separate process, as an operator runs it) against the raw
 * dump tool with the same flags writing to a file, alternating in the same session; and the peak RSS of the om-migrate
 * process, at the base size and at 4x.
 *
 *   node dist/bench/backup.js [--size-mb 1024] [--repeat 5] [--engines mysql,postgres] [--db-prefix NAME] [--keep-db]
 *                             [--generate-only] [--compress none|gzip|zstd]
 *
 * Two databases per engine, <prefix>_1x (size-mb) and <prefix>_4x (4 × size-mb). Without --db-prefix they get a random
 * name and are dropped at the end; with --db-prefix and --keep-db they are kept, and a later run with the same prefix
 * and size reuses them instead of generating again (generating 5 GB takes minutes).
 *
 * Targets (issue 3): median ratio ≤ 1.05; peak RSS ≤ 100 MB, growing < 10% from 1x to 4x.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import type { Dialect } from '../src/dialects/types.js';
import { SERVERS, TestServer } from '../test/helpers/servers.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SIZE_MB = Number(flag('size-mb', '1024'));
const REPEAT = Number(flag('repeat', '5'));
const ENGINES = flag('engines', 'mysql,postgres').split(',');
const PREFIX = flag('db-prefix', `omm_bench_${randomBytes(4).toString('hex')}`).toLowerCase();
const KEEP = args.includes('--keep-db');
const GENERATE_ONLY = args.includes('--generate-only');
const COMPRESS = flag('compress', 'none');
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ROW_BYTES = 4096;

if (!/^[a-z0-9_]+$/.test(PREFIX)) throw new Error('--db-prefix: letters, digits and _ only');

interface BenchDatabase {
  spec: ConnectionSpec; db: Dialect; name: string; reused: boolean;
  info: Awaited<ReturnType<Dialect['serverInfo']>>; tool: ReturnType<Dialect['dumpTool']['locate']>;
}

/** A database of its own with an ordinary owner; reused as it is when a kept one of the right size exists. */
async function benchDatabase(server: TestServer, name: string, sizeMb: number): Promise<BenchDatabase> {
  const user = `${name}_app`;
  // A throw-away local bench account; deterministic so that a kept database can be reused by a later run.
  const password = `pw-${name}`;
  const admin = await connect(server.admin);
  const rows = Math.ceil((sizeMb * 1024 * 1024) / ROW_BYTES);
  let reused = false;
  try {
    const exists = server.engine === 'mysql'
      ? (await admin.knex.raw('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]))[0].length > 0
      : (await admin.knex.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name])).rows.length > 0;
    if (!exists) {
      if (server.engine === 'mysql') {
        await admin.knex.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
        for (const host of ['%', 'localhost']) {
          await admin.knex.raw(`CREATE USER IF NOT EXISTS '${user}'@'${host}' IDENTIFIED BY '${password}'`);
          await admin.knex.raw(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${user}'@'${host}'`);
        }
      } else {
        await admin.knex.raw(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${user}') THEN
          CREATE ROLE "${user}" LOGIN PASSWORD '${password}'; END IF; END $$`);
        await admin.knex.raw(`CREATE DATABASE "${name}" OWNER "${user}"`);
      }
    }
  } finally {
    await admin.close();
  }
  const spec: ConnectionSpec = { ...server.admin, user, password, database: name, source: 'test' };
  const db = await connect(spec);
  const have = await db.knex.raw('SELECT COUNT(*) AS n FROM bench').then(
    (r: unknown) => Number(server.engine === 'mysql' ? (r as Array<Array<{ n: unknown }>>)[0][0].n : (r as { rows: Array<{ n: unknown }> }).rows[0].n), () => -1);
  if (have === rows) reused = true;
  else {
    if (have >= 0) await db.knex.raw('DROP TABLE bench');
    const t0 = Date.now();
    await generate(db, rows);
    // Fresh statistics, or MariaDB reports the size of an empty table.
    await db.knex.raw(db.engine === 'mysql' ? 'ANALYZE TABLE bench' : 'VACUUM ANALYZE bench');
    console.log(`  generated ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const info = await db.serverInfo();
  const tool = db.dumpTool.locate(info);
  if (tool.problem) throw new Error(tool.problem);
  return { spec, db, name, reused, info, tool };
}

/** Rows of ~4 KB of hex text: compressible about 2:1, like OpenMetadata's JSON. Generated by the server itself. */
async function generate(db: Dialect, rows: number): Promise<void> {
  const batch = 20_000;
  await db.knex.raw(db.engine === 'mysql'
    ? 'CREATE TABLE bench (id BIGINT PRIMARY KEY, json LONGTEXT NOT NULL) ENGINE=InnoDB'
    : 'CREATE TABLE bench (id BIGINT PRIMARY KEY, json TEXT NOT NULL)');
  // PostgreSQL would compress the repeated text in TOAST; store it plain so the on-disk size is what we asked for.
  if (db.engine === 'postgres') await db.knex.raw('ALTER TABLE bench ALTER COLUMN json SET STORAGE EXTERNAL');
  for (let start = 1; start <= rows; start += batch) {
    const end = Math.min(start + batch - 1, rows);
    await db.knex.raw(db.engine === 'mysql'
      ? `INSERT INTO bench SELECT seq, CONCAT('{"v":"', REPEAT(CONCAT(SHA2(RAND(), 256), MD5(RAND())), 42), '"}') FROM seq_${start}_to_${end}`
      : `INSERT INTO bench SELECT g, '{"v":"' || repeat(md5(random()::text) || md5(random()::text) || md5(random()::text), 42) || '"}'
           FROM generate_series(${start}, ${end}) g`);
  }
}

interface Measured { seconds: number; bytes: number }

/** The raw tool, same flags, stdout straight to a file: what an operator would do by hand. */
async function rawDump(b: BenchDatabase, file: string): Promise<Measured> {
  const inv = b.db.dumpTool.dumpInvocation(b.spec, b.tool, b.info);
  const fd = openSync(file, 'w', 0o600);
  const t0 = process.hrtime.bigint();
  const compress = COMPRESS !== 'none' && b.db.engine === 'mysql';
  return new Promise<Measured>((resolve, reject) => {
    // Compressed: the shell's pipeline, tool | gzip/zstd > file.
    const child = compress
      ? spawn('/bin/sh', ['-c', `"$0" "$@" | ${COMPRESS === 'gzip' ? 'gzip -6' : 'zstd -q -3 -T0'}`, ...inv.argv],
        { env: { ...process.env, ...inv.env }, stdio: ['ignore', fd, 'inherit'] })
      : spawn(inv.argv[0], inv.argv.slice(1), { env: { ...process.env, ...inv.env }, stdio: ['ignore', fd, 'inherit'] });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(fd);
      inv.dispose();
      if (code !== 0) reject(new Error(`raw ${inv.display[0]} exited ${code}`));
      else resolve({ seconds, bytes: 0 });
    });
  });
}

interface Ours extends Measured { peakRssMb: number; maxRssTimeMb: number }

/**
 * The CLI as an operator runs it, under /usr/bin/time. Peak RSS: VmHWM of the node process itself, sampled from
 * /proc/<pid>/status until it exits (the high-water mark only grows, so the last sample is its peak up to ≤ 20 ms
 * before exit); /usr/bin/time's %M is printed beside it, an upper bound (it is the largest of node and the tools).
 */
function ourBackup(spec: ConnectionSpec, dir: string): Promise<Ours> {
  const flags = ['--db-scheme', spec.engine === 'mysql' ? 'mysql' : 'postgresql', '--db-host', spec.host, '--db-port', String(spec.port),
    '--db-user', spec.user, '--database', spec.database, '--backup-dir', dir, '--json',
    ...(spec.engine === 'mysql' ? ['--compress', COMPRESS] : [])];
  const t0 = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, CLI, 'backup', ...flags],
    { env: { ...process.env, DB_USER_PASSWORD: spec.password ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
  let hwmKb = 0;
  let nodePid: number | undefined;
  const sampler = setInterval(() => {
    try {
      nodePid ??= Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
      if (!nodePid) return;
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${nodePid}/status`, 'utf8'))?.[1] ?? 0);
      if (kb > hwmKb) hwmKb = kb;
    } catch { /* gone */ }
  }, 20);
  return new Promise<Ours>((resolve, reject) => {
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`om-migrate backup failed: ${stderr}`));
      const kb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1]);
      const manifest = JSON.parse(stdout).backups[0] as { bytes: number };
      resolve({ seconds, bytes: manifest.bytes, peakRssMb: hwmKb / 1024, maxRssTimeMb: kb / 1024 });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row { engine: string; label: string; dbMb: number; dumpMb: number; raw: number; ours: number; ratio: number; rss: number; rssTime: number }
const table: Row[] = [];

async function benchServer(server: TestServer): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-'));
  const made: BenchDatabase[] = [];
  try {
    for (const [label, factor] of [['1x', 1], ['4x', 4]] as const) {
      const b = await benchDatabase(server, `${PREFIX}_${label}`, SIZE_MB * factor);
      made.push(b);
      const dbMb = (await b.db.introspect.databaseSizeBytes()) / 1024 / 1024;
      console.log(`${server.label} ${label}: ${b.name}, ${dbMb.toFixed(0)} MB on disk${b.reused ? ' (reused)' : ''}`);
      await b.db.close();
      if (GENERATE_ONLY) continue;
      // A warm-up pass of each, so neither side pays for a cold cache.
      await rawDump(b, join(dir, 'warm.raw'));
      rmSync(join(dir, 'warm.raw'), { force: true });
      const raws: number[] = [];
      const ourss: number[] = [];
      const ratios: number[] = [];
      const rss: number[] = [];
      const rssTime: number[] = [];
      let dumpMb = 0;
      for (let i = 0; i < REPEAT; i += 1) {
        // Alternate the order so that caches and the page-cache writeback of the previous run favour neither side.
        const rawFile = join(dir, `raw-${i}`);
        const ourDir = join(dir, `ours-${i}`);
        let raw: Measured;
        let ours: Ours;
        if (i % 2 === 0) {
          raw = await rawDump(b, rawFile);
          ours = await ourBackup(b.spec, ourDir);
        } else {
          ours = await ourBackup(b.spec, ourDir);
          raw = await rawDump(b, rawFile);
        }
        dumpMb = ours.bytes / 1024 / 1024;
        raws.push(raw.seconds); ourss.push(ours.seconds); ratios.push(ours.seconds / raw.seconds); rss.push(ours.peakRssMb); rssTime.push(ours.maxRssTimeMb);
        console.log(`  run ${i + 1}: raw ${raw.seconds.toFixed(2)} s, om-migrate backup ${ours.seconds.toFixed(2)} s, ratio ${(ours.seconds / raw.seconds).toFixed(3)}, `
          + `peak RSS ${ours.peakRssMb.toFixed(1)} MB (time %M ${ours.maxRssTimeMb.toFixed(1)} MB), ${dumpMb.toFixed(0)} MB written`);
        rmSync(rawFile, { force: true });
        rmSync(ourDir, { recursive: true, force: true });
      }
      const row = { engine: server.label, label, dbMb, dumpMb, raw: median(raws), ours: median(ourss), ratio: median(ratios), rss: Math.max(...rss), rssTime: Math.max(...rssTime) };
      table.push(row);
      console.log(`  ${label} median ratio ${row.ratio.toFixed(3)} (target ≤ 1.05), peak RSS max ${row.rss.toFixed(1)} MB (target ≤ 100)`);
    }
  } finally {
    for (const b of made) {
      await b.db.close().catch(() => undefined);
      if (!KEEP) await dropDatabase(server, b.name);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dropDatabase(server: TestServer, name: string): Promise<void> {
  const a = await connect(server.admin);
  try {
    if (server.engine === 'mysql') {
      await a.knex.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      for (const host of ['%', 'localhost']) await a.knex.raw(`DROP USER IF EXISTS '${name}_app'@'${host}'`);
    } else {
      await a.knex.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.knex.raw(`DROP ROLE IF EXISTS "${name}_app"`);
    }
  } finally {
    await a.close();
  }
}

console.log(`bench:backup — base size ${SIZE_MB} MB, ${REPEAT} alternating repeats, ${ENGINES.join(', ')}, compress ${COMPRESS}, databases ${PREFIX}_1x/_4x`);
for (const server of SERVERS.filter((s) => ENGINES.includes(s.engine))) await benchServer(server);
if (table.length > 0) {
  console.log('\nengine      size  db MB   dump MB  raw s   ours s  ratio  peak RSS MB (time %M)');
  for (const r of table) {
    console.log(`${r.engine.padEnd(11)} ${r.label.padEnd(4)} ${r.dbMb.toFixed(0).padStart(6)} ${r.dumpMb.toFixed(0).padStart(8)} ${r.raw.toFixed(2).padStart(6)} ${r.ours.toFixed(2).padStart(7)} `
      + `${r.ratio.toFixed(3).padStart(6)} ${r.rss.toFixed(1).padStart(8)} (${r.rssTime.toFixed(1)})`);
  }
  for (const engine of new Set(table.map((r) => r.engine))) {
    const one = table.find((r) => r.engine === engine && r.label === '1x');
    const four = table.find((r) => r.engine === engine && r.label === '4x');
    if (one && four) console.log(`${engine}: peak RSS growth 1x → 4x ${((four.rss / one.rss - 1) * 100).toFixed(1)}% (target < 10%)`);
  }
}
