/**
 * bench:restore — `om-migrate restore` (the CLI: it verifies the SHA-256 and the archive first, checks the target,
 * then runs the stock client) against the stock client alone with the same flags on the same backup, alternating, on
 * throw-away servers of its own; for PostgreSQL also `restore --jobs N` against `pg_restore --jobs N`. Each restore
 * goes into a fresh, empty database. Reports the wall ratio, om-migrate's own CPU per GiB of backup and its peak RSS.
 *
 *   node dist/bench/restore.js [--size-mb 100] [--repeat 3] [--engines mysql,postgres] [--jobs 2] [--cli dist/src/cli/main.js]
 */
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import { benchDatabase, OwnRun, ownRun, timed } from './lib/run.js';
import { startBenchMariadb, startBenchPostgres } from './lib/servers.js';
import { flag, spread } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '100'));
const REPEAT = Number(flag(args, 'repeat', '3'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const JOBS = Number(flag(args, 'jobs', '2'));
const CLI = resolve(flag(args, 'cli', fileURLToPath(new URL('../src/cli/main.js', import.meta.url))));
const GIB = 1024 ** 3;

interface Row { engine: string; variant: string; raw: number[]; ours: number[]; ratio: number[]; cpuPerGib: number[]; rss: number[] }

async function createEmpty(admin: ConnectionSpec, name: string): Promise<void> {
  const a = await connect(admin);
  try {
    await a.knex.raw(admin.engine === 'mysql' ? `CREATE DATABASE \`${name}\`` : `CREATE DATABASE "${name}"`);
  } finally {
    await a.close();
  }
}

async function dropDatabase(admin: ConnectionSpec, name: string): Promise<void> {
  const a = await connect(admin);
  try {
    await a.knex.raw(admin.engine === 'mysql' ? `DROP DATABASE IF EXISTS \`${name}\`` : `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await a.close();
  }
}

async function benchEngine(engine: string, table: Row[]): Promise<void> {
  const server = engine === 'mysql' ? await startBenchMariadb() : await startBenchPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-restore-'));
  try {
    const b = await benchDatabase(server, 'bench_src', SIZE_MB);
    const admin = server.server.admin;
    const connFlags = ['--db-scheme', engine === 'mysql' ? 'mysql' : 'postgresql', '--db-host', admin.host, '--db-port', String(admin.port), '--db-user', admin.user];
    const env = { ...process.env, DB_USER_PASSWORD: admin.password ?? '' };
    // The backup both sides restore: om-migrate's own (what an operator restores on upgrade night).
    const backup = await ownRun(CLI, ['backup', ...connFlags, '--database', b.spec.database, '--backup-dir', dir, '--json'], env, undefined, join(dir, 'usage.json'));
    const manifest = (JSON.parse(backup.out) as { result: { backups: Array<{ bytes: number; path: string; manifestPath: string; format: string }> } }).result.backups[0];
    console.log(`  ${server.server.label}: ${(manifest.bytes / 1024 / 1024).toFixed(0)} MB ${manifest.format} backup`);
    const info = await b.db.serverInfo();
    const tool = b.db.dumpTool.locateRestore(info, process.env);
    await b.db.close();
    let n = 0;
    for (const jobs of engine === 'postgres' ? [1, JOBS] : [1]) {
      const row: Row = { engine: server.server.label, variant: jobs > 1 ? `--jobs ${jobs}` : 'default', raw: [], ours: [], ratio: [], cpuPerGib: [], rss: [] };
      for (let i = 0; i < REPEAT; i += 1) {
        let raw = 0;
        let ours: OwnRun | undefined;
        for (const which of i % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw']) {
          const into = `bench_rs_${(n += 1)}`;
          await createEmpty(admin, into);
          if (which === 'raw') {
            const spec = { ...admin, database: into };
            const { invocation, stdin } = b.db.dumpTool.restoreInvocation(spec, tool, manifest.path, { replace: false, jobs });
            const fd = stdin ? openSync(manifest.path, 'r') : undefined;
            try {
              raw = (await timed(invocation.argv, { env: { ...process.env, ...invocation.env }, stdin: fd })).seconds;
            } finally {
              if (fd !== undefined) closeSync(fd);
              invocation.dispose();
            }
          } else {
            ours = await ownRun(CLI, ['restore', ...connFlags, '--manifest', manifest.manifestPath, '--into', into, '--json', ...(jobs > 1 ? ['--jobs', String(jobs)] : [])],
              env, undefined, join(dir, 'usage.json'));
          }
          await dropDatabase(admin, into);
        }
        row.raw.push(raw); row.ours.push(ours!.seconds); row.ratio.push(ours!.seconds / raw);
        row.cpuPerGib.push(ours!.cpuSeconds / (manifest.bytes / GIB)); row.rss.push(ours!.peakRssMb);
        console.log(`  ${row.engine} ${row.variant} run ${i + 1}: stock ${raw.toFixed(2)} s, om-migrate restore ${ours!.seconds.toFixed(2)} s (ratio ${(ours!.seconds / raw).toFixed(3)}), `
          + `own CPU ${ours!.cpuSeconds.toFixed(2)} s, peak RSS ${ours!.peakRssMb.toFixed(1)} MB`);
      }
      table.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

console.log(`bench:restore — ${CLI}; ${SIZE_MB} MB database, ${REPEAT} alternating repeats, ${ENGINES.join(', ')}; throw-away servers`);
const table: Row[] = [];
for (const engine of ENGINES) await benchEngine(engine, table);
console.log('\nmedian [min–max] of the repeats');
console.log('engine      variant    stock s              om-migrate s         wall ratio           own CPU s/GiB       peak RSS MB');
for (const r of table) {
  console.log(`${r.engine.padEnd(11)} ${r.variant.padEnd(10)} ${spread(r.raw).padEnd(20)} ${spread(r.ours).padEnd(20)} ${spread(r.ratio, 3).padEnd(20)} ${spread(r.cpuPerGib).padEnd(19)} ${spread(r.rss, 1)}`);
}
