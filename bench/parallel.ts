/**
 * bench:parallel — `om-migrate backup --jobs J` and `om-migrate restore --jobs J` (the CLI, as an operator runs it) for
 * J in --jobs (default 1,2,4), against the single-threaded stock tool on the same database, alternating, on throw-away
 * servers of their own. The database is --size-mb of ~4 KB rows over --tables tables (default 8; --largest-share puts
 * that fraction of the rows into one table, the case where one table bounds the parallelism).
 *
 *   backup:  stock = the dump tool with om-migrate's flags into one file (mariadb-dump … > f; pg_dump -Fc > f), and the
 *            same followed by an fsync of the file ("durable"), which every om-migrate backup includes;
 *   restore: stock = the client on the stock dump (mariadb < f; pg_restore --single-transaction f) into a fresh
 *            database; om-migrate restores its own --jobs J backup with --jobs J into a fresh database.
 *
 * Ratios are om-migrate ÷ stock of the same repeat: median [min–max] over --repeat alternating repeats.
 *
 *   node dist/bench/parallel.js [--size-mb 256] [--tables 8] [--largest-share 0.5] [--jobs 1,2,4] [--repeat 3]
 *                               [--engines mysql,postgres] [--phases backup,restore] [--cli dist/src/cli/main.js]
 *
 * Goal (issue 26): at 4 GiB over at least 8 tables on a 2-core machine, backup and restore with --jobs 2 ≤ 0.75× the
 * single-threaded stock tool.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import { BenchDatabase, benchDatabase, ownRun, timed } from './lib/run.js';
import { startBenchMariadb, startBenchPostgres } from './lib/servers.js';
import { flag, spread } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '256'));
const TABLES = Number(flag(args, 'tables', '8'));
const LARGEST = args.includes('--largest-share') ? Number(flag(args, 'largest-share', '0.5')) : undefined;
const JOBS = flag(args, 'jobs', '1,2,4').split(',').map(Number);
const REPEAT = Number(flag(args, 'repeat', '3'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const PHASES = flag(args, 'phases', 'backup,restore').split(',');
const CLI = resolve(flag(args, 'cli', fileURLToPath(new URL('../src/cli/main.js', import.meta.url))));

interface Series { label: string; seconds: number[]; ratio: number[]; durableRatio: number[]; cpu: number[]; rss: number[] }
const series = (label: string): Series => ({ label, seconds: [], ratio: [], durableRatio: [], cpu: [], rss: [] });

async function stockDump(b: BenchDatabase, file: string): Promise<{ seconds: number; durable: number }> {
  const inv = b.db.dumpTool.dumpInvocation(b.spec, b.tool, b.info);
  const fd = openSync(file, 'w', 0o600);
  try {
    const { seconds } = await timed(inv.argv, { env: { ...process.env, ...inv.env }, stdout: fd });
    const t0 = process.hrtime.bigint();
    fsyncSync(fd);
    return { seconds, durable: seconds + Number(process.hrtime.bigint() - t0) / 1e9 };
  } finally {
    closeSync(fd);
    inv.dispose();
  }
}

async function stockRestore(b: BenchDatabase, admin: ConnectionSpec, file: string, into: string): Promise<number> {
  const tool = b.db.dumpTool.locateRestore(b.info, process.env);
  const { invocation, stdin } = b.db.dumpTool.restoreInvocation({ ...admin, database: into }, tool, file, { replace: false, jobs: 1 });
  const fd = stdin ? openSync(file, 'r') : undefined;
  try {
    return (await timed(invocation.argv, { env: { ...process.env, ...invocation.env }, stdin: fd })).seconds;
  } finally {
    if (fd !== undefined) closeSync(fd);
    invocation.dispose();
  }
}

async function sql(admin: ConnectionSpec, statement: string): Promise<void> {
  const a = await connect(admin);
  try {
    await a.knex.raw(statement);
  } finally {
    await a.close();
  }
}
const quote = (engine: string, name: string) => (engine === 'mysql' ? `\`${name}\`` : `"${name}"`);

async function benchEngine(engine: string, out: string[]): Promise<void> {
  const server = engine === 'mysql' ? await startBenchMariadb() : await startBenchPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-parallel-'));
  try {
    const b = await benchDatabase(server, 'bench_src', SIZE_MB, { tables: TABLES, largestShare: LARGEST });
    await b.db.close();
    const admin = server.server.admin;
    const scheme = engine === 'mysql' ? 'mysql' : 'postgresql';
    const appFlags = ['--db-scheme', scheme, '--db-host', b.spec.host, '--db-port', String(b.spec.port), '--db-user', b.spec.user, '--database', b.spec.database];
    const adminFlags = ['--db-scheme', scheme, '--db-host', admin.host, '--db-port', String(admin.port), '--db-user', admin.user];
    const appEnv = { ...process.env, DB_USER_PASSWORD: b.spec.password ?? '' };
    const adminEnv = { ...process.env, DB_USER_PASSWORD: admin.password ?? '' };
    const label = `${server.server.label} ${SIZE_MB} MB, ${TABLES} tables${LARGEST ? ` (largest ${LARGEST})` : ''}`;

    // A warm-up dump, so that neither side pays for a cold cache.
    const stockFile = join(dir, 'stock.dump');
    await stockDump(b, stockFile);
    const stock = series('stock');
    const ours = new Map(JOBS.map((j) => [j, series(`--jobs ${j}`)]));
    const manifests = new Map<number, string>();
    if (PHASES.includes('backup')) {
      for (let i = 0; i < REPEAT; i += 1) {
        const order: Array<number | 'stock'> = ['stock', ...JOBS];
        if (i % 2 === 1) order.reverse();
        let stockSeconds = 0;
        let stockDurable = 0;
        const runs = new Map<number, { seconds: number; cpu: number; rss: number }>();
        for (const which of order) {
          if (which === 'stock') {
            ({ seconds: stockSeconds, durable: stockDurable } = await stockDump(b, stockFile));
            continue;
          }
          const backupDir = join(dir, `ours-${which}-${i}`);
          const run = await ownRun(CLI, ['backup', ...appFlags, '--backup-dir', backupDir, '--json', '--jobs', String(which)], appEnv, undefined, join(dir, 'usage.json'));
          const result = (JSON.parse(run.out) as { result: { backups: Array<{ manifestPath: string }> } }).result.backups[0];
          // The first repeat's backups are the ones restored below; the others go.
          if (i === 0) manifests.set(which, result.manifestPath);
          else rmSync(backupDir, { recursive: true, force: true });
          runs.set(which, { seconds: run.seconds, cpu: run.cpuSeconds, rss: run.peakRssMb });
        }
        stock.seconds.push(stockSeconds);
        stock.durableRatio.push(stockDurable / stockSeconds);
        const line = [`stock ${stockSeconds.toFixed(2)} s (${stockDurable.toFixed(2)} s with fsync)`];
        for (const [j, r] of runs) {
          const s = ours.get(j)!;
          s.seconds.push(r.seconds); s.ratio.push(r.seconds / stockSeconds); s.durableRatio.push(r.seconds / stockDurable); s.cpu.push(r.cpu); s.rss.push(r.rss);
          line.push(`--jobs ${j} ${r.seconds.toFixed(2)} s (${(r.seconds / stockSeconds).toFixed(3)})`);
        }
        console.log(`  ${label} backup run ${i + 1}: ${line.join(', ')}`);
      }
      out.push(`\n${label}: backup (median [min–max] of ${REPEAT}; ratio = om-migrate ÷ stock of the same repeat)`);
      out.push(`  stock single-threaded dump: ${spread(stock.seconds)} s; its fsync adds ${spread(stock.durableRatio.map((r) => (r - 1) * 100), 1)} %`);
      for (const s of ours.values()) {
        out.push(`  om-migrate backup ${s.label.padEnd(9)} ${spread(s.seconds).padEnd(22)} s  ratio ${spread(s.ratio, 3).padEnd(22)} to the durable stock ${spread(s.durableRatio, 3).padEnd(22)} own CPU ${spread(s.cpu)} s  peak RSS ${spread(s.rss, 1)} MB`);
      }
    }
    if (PHASES.includes('restore')) {
      if (manifests.size === 0) {
        for (const j of JOBS) {
          const run = await ownRun(CLI, ['backup', ...appFlags, '--backup-dir', join(dir, `ours-${j}-0`), '--json', '--jobs', String(j)], appEnv, undefined, join(dir, 'usage.json'));
          manifests.set(j, (JSON.parse(run.out) as { result: { backups: Array<{ manifestPath: string }> } }).result.backups[0].manifestPath);
        }
      }
      const stockR = series('stock');
      const oursR = new Map(JOBS.map((j) => [j, series(`--jobs ${j}`)]));
      let n = 0;
      for (let i = 0; i < REPEAT; i += 1) {
        const order: Array<number | 'stock'> = ['stock', ...JOBS];
        if (i % 2 === 1) order.reverse();
        let stockSeconds = 0;
        const runs = new Map<number, { seconds: number; cpu: number; rss: number }>();
        for (const which of order) {
          const into = `bench_rs_${(n += 1)}`;
          await sql(admin, `CREATE DATABASE ${quote(engine, into)}`);
          if (which === 'stock') stockSeconds = await stockRestore(b, admin, stockFile, into);
          else {
            const run = await ownRun(CLI, ['restore', ...adminFlags, '--manifest', manifests.get(which)!, '--into', into, '--json', '--jobs', String(which)],
              adminEnv, undefined, join(dir, 'usage.json'));
            runs.set(which, { seconds: run.seconds, cpu: run.cpuSeconds, rss: run.peakRssMb });
          }
          await sql(admin, engine === 'mysql' ? `DROP DATABASE ${quote(engine, into)}` : `DROP DATABASE ${quote(engine, into)} WITH (FORCE)`);
        }
        stockR.seconds.push(stockSeconds);
        const line = [`stock ${stockSeconds.toFixed(2)} s`];
        for (const [j, r] of runs) {
          const s = oursR.get(j)!;
          s.seconds.push(r.seconds); s.ratio.push(r.seconds / stockSeconds); s.cpu.push(r.cpu); s.rss.push(r.rss);
          line.push(`--jobs ${j} ${r.seconds.toFixed(2)} s (${(r.seconds / stockSeconds).toFixed(3)})`);
        }
        console.log(`  ${label} restore run ${i + 1}: ${line.join(', ')}`);
      }
      out.push(`\n${label}: restore into a fresh database (median [min–max] of ${REPEAT})`);
      out.push(`  stock single-threaded restore: ${spread(stockR.seconds)} s`);
      for (const s of oursR.values()) {
        out.push(`  om-migrate restore ${s.label.padEnd(9)} ${spread(s.seconds).padEnd(22)} s  ratio ${spread(s.ratio, 3).padEnd(22)} own CPU ${spread(s.cpu)} s  peak RSS ${spread(s.rss, 1)} MB`);
      }
    }
    const goal = [...(PHASES.includes('backup') ? ['backup'] : []), ...(PHASES.includes('restore') ? ['restore'] : [])];
    if (JOBS.includes(2)) out.push(`  goal: ${goal.join(' and ')} with --jobs 2 ≤ 0.75× the stock tool (see the ratios above)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

console.log(`bench:parallel — ${CLI}; ${SIZE_MB} MB over ${TABLES} tables${LARGEST ? `, largest ${LARGEST}` : ''}; jobs ${JOBS.join(', ')}; `
  + `${REPEAT} alternating repeats; ${ENGINES.join(', ')}; ${PHASES.join(', ')}; ${cpus().length} cores; throw-away servers`);
const out: string[] = [];
for (const engine of ENGINES) await benchEngine(engine, out);
console.log(out.join('\n'));
