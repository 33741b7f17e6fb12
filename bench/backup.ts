/**
 * bench:backup — `om-migrate backup` (the CLI, a separate process, as an operator runs it) against the raw dump tool
 * with the same flags writing to a file, alternating, on throw-away servers of its own (never the machine's shared
 * ones). For every run it records:
 *   - wall time of each, and their ratio;
 *   - om-migrate's own CPU (user + system of its process only, not of the dump tool it waits for: process.resourceUsage
 *     at exit, preloaded by bench/lib/ownUsage.ts) per GiB of dump, against the SHA-256 floor measured right after it
 *     in the same run (bench/lib/hashFloor.ts: the same number of bytes hashed from memory, no I/O);
 *   - peak RSS of the om-migrate process (its own maxRSS).
 * Two modes: `shared` (nothing pinned: server, tool and om-migrate share both cores, as on a one-box install) and
 * `pinned` (server and dump tool on core 0 by taskset, om-migrate on core 1: a remote database, where the hash has a
 * core of its own).
 *
 *   node dist/bench/backup.js [--size-mb 100] [--factors 1,4] [--repeat 3] [--engines mysql,postgres] [--modes shared,pinned]
 *                             [--cli dist/src/cli/main.js] [--compress none|gzip|zstd]
 *
 * Targets (issue 16): own CPU ≤ 1.2× the hash floor; pinned wall ≤ 1.05× raw at 1 and 4 GiB; peak RSS ≤ 100 MB and
 * flat from 1× to 4×.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../src/dialects/connect.js';
import { BenchDatabase, benchDatabase, hashFloor, OwnRun, ownRun, timed } from './lib/run.js';
import { BenchServer, canPin, pin, pinnedToolPath, startBenchMariadb, startBenchPostgres } from './lib/servers.js';
import { flag, median, spread } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '100'));
const FACTORS = flag(args, 'factors', '1,4').split(',').map(Number);
const REPEAT = Number(flag(args, 'repeat', '3'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const MODES = flag(args, 'modes', 'shared,pinned').split(',').filter((m) => m !== 'pinned' || canPin());
const COMPRESS = flag(args, 'compress', 'none');
const CLI = resolve(flag(args, 'cli', fileURLToPath(new URL('../src/cli/main.js', import.meta.url))));
const GIB = 1024 ** 3;

/**
 * The raw tool, same flags, stdout straight to a file: what an operator would do by hand. `seconds` is the tool alone;
 * `durableSeconds` adds the fsync that makes the file survive a crash (`tool > file && sync file`), which om-migrate
 * always does before it calls a backup done: above the kernel's dirty-page threshold the disk's write speed, not the
 * tool, sets that figure.
 */
async function rawDump(b: BenchDatabase, file: string, cpus: string | undefined): Promise<{ seconds: number; durableSeconds: number }> {
  const inv = b.db.dumpTool.dumpInvocation(b.spec, b.tool, b.info);
  const fd = openSync(file, 'w', 0o600);
  try {
    const compress = COMPRESS !== 'none' && b.db.engine === 'mysql';
    const argv = compress ? ['/bin/sh', '-c', `"$0" "$@" | ${COMPRESS === 'gzip' ? 'gzip -6' : 'zstd -q -3 -T0'}`, ...inv.argv] : inv.argv;
    const seconds = (await timed(argv, { env: { ...process.env, ...inv.env }, cpus, stdout: fd })).seconds;
    const t0 = process.hrtime.bigint();
    fsyncSync(fd);
    return { seconds, durableSeconds: seconds + Number(process.hrtime.bigint() - t0) / 1e9 };
  } finally {
    closeSync(fd);
    inv.dispose();
  }
}

/**
 * Puts the server (and, through PATH shims, the dump tool) on core 0 for `pinned`, or on both cores for `shared`; the
 * CPUs om-migrate and the floor run on, and the environment it runs with.
 */
function enterMode(server: BenchServer, mode: string, password: string | undefined): { env: NodeJS.ProcessEnv; ours: string | undefined; tool: string | undefined; dispose(): void } {
  const pinned = mode === 'pinned';
  pin(server.pid, pinned ? '0' : '0,1');
  const shims = pinned ? pinnedToolPath('0') : undefined;
  return {
    env: { ...process.env, ...(shims ? { PATH: shims.path } : {}), DB_USER_PASSWORD: password ?? '' },
    ours: pinned ? '1' : undefined,
    tool: pinned ? '0' : undefined,
    dispose: () => shims?.dispose(),
  };
}

function backupFlags(engine: string, b: BenchDatabase, backupDir: string): string[] {
  return ['backup', '--db-scheme', engine === 'mysql' ? 'mysql' : 'postgresql', '--db-host', b.spec.host, '--db-port', String(b.spec.port),
    '--db-user', b.spec.user, '--database', b.spec.database, '--backup-dir', backupDir, '--json', ...(engine === 'mysql' ? ['--compress', COMPRESS] : [])];
}

interface Row {
  engine: string; size: string; mode: string; dumpMb: number; raw: number[]; ours: number[]; ratio: number[]; cpuPerGib: number[]; floorPerGib: number[];
  overFloor: number[]; rss: number[];
  /** om-migrate's wall ÷ the raw tool's followed by an fsync of its file. */
  durableRatio: number[];
  /** The fixed part: own CPU of a backup of an empty database on the same server, same mode (median of REPEAT). */
  fixed: number;
  /** (own CPU − fixed) ÷ floor: what each byte costs om-migrate against what hashing it costs. */
  marginalOverFloor: number[];
}

async function benchEngine(engine: string, table: Row[]): Promise<void> {
  const server = engine === 'mysql' ? await startBenchMariadb() : await startBenchPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-backup-'));
  try {
    // The fixed cost of a backup (start-up, connection, checks, the tool's start, manifest), per mode: a database with
    // one empty table, so that what remains of a large backup's own CPU is what its bytes cost.
    const empty = await benchDatabase(server, 'bench_empty', 0);
    await empty.db.close();
    const fixed = new Map<string, number>();
    for (const mode of MODES) {
      const m = enterMode(server, mode, empty.spec.password);
      try {
        const cpu: number[] = [];
        for (let i = 0; i < Math.max(3, REPEAT); i += 1) {
          cpu.push((await ownRun(CLI, backupFlags(engine, empty, join(dir, 'empty')), m.env, m.ours, join(dir, 'usage.json'))).cpuSeconds);
          rmSync(join(dir, 'empty'), { recursive: true, force: true });
        }
        fixed.set(mode, median(cpu));
        console.log(`  ${server.server.label} empty database, ${mode}: own CPU ${spread(cpu)} s per backup (the fixed part)`);
      } finally {
        m.dispose();
      }
    }
    for (const factor of FACTORS) {
      const b = await benchDatabase(server, `bench_${factor}x`, SIZE_MB * factor);
      await b.db.close();
      for (const mode of MODES) {
        const m = enterMode(server, mode, b.spec.password);
        const flags = backupFlags(engine, b, join(dir, 'ours'));
        const row: Row = {
          engine: server.server.label, size: `${SIZE_MB * factor} MB`, mode, dumpMb: 0, raw: [], ours: [], ratio: [], cpuPerGib: [], floorPerGib: [], overFloor: [], rss: [],
          fixed: fixed.get(mode) ?? 0, marginalOverFloor: [], durableRatio: [],
        };
        try {
          // A warm-up pass, so neither side pays for a cold cache.
          await rawDump(b, join(dir, 'warm'), m.tool);
          rmSync(join(dir, 'warm'), { force: true });
          for (let i = 0; i < REPEAT; i += 1) {
            // Alternate the order so that caches and the previous run's writeback favour neither side.
            let raw = 0;
            let durable = 0;
            let ours: OwnRun | undefined;
            for (const which of i % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw']) {
              if (which === 'raw') ({ seconds: raw, durableSeconds: durable } = await rawDump(b, join(dir, 'raw'), m.tool));
              else ours = await ownRun(CLI, flags, m.env, m.ours, join(dir, 'usage.json'));
            }
            const bytes = (JSON.parse(ours!.out) as { result: { backups: Array<{ bytes: number }> } }).result.backups[0].bytes;
            const floor = await hashFloor(bytes, m.ours);
            row.dumpMb = bytes / 1024 / 1024;
            row.raw.push(raw); row.ours.push(ours!.seconds); row.ratio.push(ours!.seconds / raw); row.durableRatio.push(ours!.seconds / durable);
            row.cpuPerGib.push(ours!.cpuSeconds / (bytes / GIB)); row.floorPerGib.push(floor / (bytes / GIB)); row.overFloor.push(ours!.cpuSeconds / floor);
            row.marginalOverFloor.push((ours!.cpuSeconds - row.fixed) / floor);
            row.rss.push(ours!.peakRssMb);
            console.log(`  ${row.engine} ${row.size} ${mode} run ${i + 1}: raw ${raw.toFixed(2)} s (${durable.toFixed(2)} s with its fsync), om-migrate ${ours!.seconds.toFixed(2)} s (ratio ${(ours!.seconds / raw).toFixed(3)}, ${(ours!.seconds / durable).toFixed(3)} to the durable raw), `
              + `own CPU ${ours!.userSeconds.toFixed(2)} user + ${ours!.systemSeconds.toFixed(2)} sys = ${ours!.cpuSeconds.toFixed(2)} s, hash floor ${floor.toFixed(2)} s, `
              + `peak RSS ${ours!.peakRssMb.toFixed(1)} MB, ${row.dumpMb.toFixed(0)} MB dump`);
            rmSync(join(dir, 'raw'), { force: true });
            rmSync(join(dir, 'ours'), { recursive: true, force: true });
          }
        } finally {
          m.dispose();
        }
        table.push(row);
      }
      const drop = await connect(server.server.admin);
      await drop.knex.raw(engine === 'mysql' ? `DROP DATABASE \`bench_${factor}x\`` : `DROP DATABASE "bench_${factor}x"`);
      await drop.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

console.log(`bench:backup — ${CLI}; sizes ${FACTORS.map((f) => `${SIZE_MB * f} MB`).join(', ')}, ${REPEAT} alternating repeats, ${ENGINES.join(', ')}, `
  + `modes ${MODES.join(', ')}, compress ${COMPRESS}; throw-away servers`);
const table: Row[] = [];
for (const engine of ENGINES) await benchEngine(engine, table);
console.log('\nmedian [min–max] of the repeats; own CPU and the floor in CPU seconds per GiB of dump');
console.log('(own−fixed)/floor: own CPU less the fixed part (an empty database\'s backup, same server and mode), against the floor');
console.log('durable ratio: om-migrate\'s wall against the raw tool followed by an fsync of its file (tool > file && sync file)');
console.log('engine      size      mode    dump MB  wall ratio           durable ratio        own CPU s/GiB       floor s/GiB         own/floor            fixed s  (own−fixed)/floor    peak RSS MB');
for (const r of table) {
  console.log(`${r.engine.padEnd(11)} ${r.size.padEnd(9)} ${r.mode.padEnd(7)} ${r.dumpMb.toFixed(0).padStart(7)}  ${spread(r.ratio, 3).padEnd(20)} ${spread(r.durableRatio, 3).padEnd(20)} ${spread(r.cpuPerGib).padEnd(19)} `
    + `${spread(r.floorPerGib).padEnd(19)} ${spread(r.overFloor).padEnd(20)} ${r.fixed.toFixed(2).padStart(7)}  ${spread(r.marginalOverFloor).padEnd(18)} ${spread(r.rss, 1)}`);
}
for (const engine of new Set(table.map((r) => r.engine))) {
  const rows = table.filter((r) => r.engine === engine);
  const rss = rows.map((r) => Math.max(...r.rss));
  if (rows.length > 1) console.log(`${engine}: peak RSS ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)} MB across sizes and modes (target ≤ 100, flat)`);
}
console.log(`medians: ${table.map((r) => `${r.engine}/${r.size}/${r.mode} ratio ${median(r.ratio).toFixed(3)}`).join('; ')}`);
