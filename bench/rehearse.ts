/**
 * bench:rehearse — what a rehearsal costs next to the backup it restores and the `up` it stands for. An OpenMetadata
 * 1.10.2 + Airflow scenario (the faithful stand-in migrators) on a throw-away server (MariaDB with binary logging, or an
 * embedded PostgreSQL 14), the OpenMetadata database grown by --size-mb of 4 KB rows (over --tables tables); then
 * `om-migrate rehearse` (it takes the backup, restores it into a copy, runs the plan there and drops the copy) and
 * `om-migrate up` (it takes its own backup and migrates), each timed, the rehearsal's parts from its own report. With
 * --jobs 1,2 each value gets a scenario of its own (up migrates it), rehearse and up both run with that --jobs.
 *
 *   node dist/bench/rehearse.js [--size-mb 1024] [--tables 1] [--engines mysql,postgres] [--jobs 1]
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { CLI, createUpScenario } from '../test/fixtures/upScenario.js';
import { startBinlogMariadb } from '../test/helpers/binlogMariadb.js';
import type { TestServer } from '../test/helpers/servers.js';
import { generateTables } from './lib/run.js';
import { startBenchPostgres } from './lib/servers.js';
import { flag } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '1024'));
const TABLES = Number(flag(args, 'tables', '1'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const JOBS = flag(args, 'jobs', '1').split(',').map(Number);
const ROW_BYTES = 4096;

interface Envelope { ok: boolean; exitCode: number; result?: Record<string, unknown>; error?: { message: string } }

function run(argv: string[], env: NodeJS.ProcessEnv): { seconds: number; json: Envelope } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...argv, '--json'], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const json = JSON.parse(r.stdout) as Envelope;
  if (!json.ok) throw new Error(`${argv.join(' ')} exited ${r.status}: ${json.error?.message ?? r.stderr}`);
  return { seconds, json };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function once(server: TestServer, label: string, jobs: number, out: string[]): Promise<void> {
  const sc = await createUpScenario(server);
  try {
    const t0 = performance.now();
    const tables = await generateTables(sc.om.root, Math.ceil((SIZE_MB * 1024 * 1024) / ROW_BYTES), TABLES);
    for (const t of tables) await sc.om.root.knex.raw(server.engine === 'mysql' ? `ANALYZE TABLE ${t}` : `ANALYZE ${t}`);
    if (server.engine === 'postgres') {
      // The application user owns what it migrates and backs up (as the scenario's own tables).
      for (const t of tables) await sc.om.root.knex.raw(`ALTER TABLE ${t} OWNER TO "${sc.om.appSpec.user}"`);
    }
    console.log(`${label}: generated ${SIZE_MB} MB over ${tables.length} table(s) in the OpenMetadata database in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    const flags = jobs > 1 ? ['--jobs', String(jobs)] : [];
    const rehearsal = run(['rehearse', ...flags], sc.env);
    const r = rehearsal.json.result as { outcome: string; timings: { backupMs: number; restoreMs: number; runMs: number; totalMs: number };
      copies: Array<{ database: string; bytes: number; backupMs: number; restoreMs: number }> };
    const up = run(['up', ...flags], sc.env);
    const u = up.json.result as { steps: Array<{ name: string; durationMs: number }> };

    out.push(`\n${label}${jobs > 1 ? ` --jobs ${jobs}` : ''}: rehearse (${r.outcome}), wall ${rehearsal.seconds.toFixed(1)} s`);
    for (const c of r.copies) {
      out.push(`  ${c.database.padEnd(28)} ${(c.bytes / 1024 / 1024).toFixed(0).padStart(6)} MB  backup ${s(c.backupMs).padStart(8)}  restore ${s(c.restoreMs).padStart(8)}`
        + `  restore/backup ${(c.restoreMs / Math.max(c.backupMs, 1)).toFixed(2)}`);
    }
    out.push(`  backup ${s(r.timings.backupMs)}, restore ${s(r.timings.restoreMs)}, plan on the copies ${s(r.timings.runMs)}, total ${s(r.timings.totalMs)}`);
    out.push(`  up, wall ${up.seconds.toFixed(1)} s (steps: ${u.steps.map((x) => `${x.name} ${s(x.durationMs)}`).join(', ')})`);
    out.push(`  rehearsal ÷ up: ${(rehearsal.seconds / up.seconds).toFixed(2)}; the restore a failure would cost ≈ the rehearsal's restore, ${s(r.timings.restoreMs)} (${(r.timings.restoreMs / 1000 / up.seconds).toFixed(2)}× up)`);
  } finally {
    await sc.cleanup();
  }
}

console.log(`bench:rehearse — ${SIZE_MB} MB over ${TABLES} table(s); ${ENGINES.join(', ')}; --jobs ${JOBS.join(', ')}; ${cpus().length} cores; throw-away servers`);
const out: string[] = [];
for (const engine of ENGINES) {
  const started = engine === 'mysql' ? await startBinlogMariadb() : await startBenchPostgres();
  try {
    for (const jobs of JOBS) await once(started.server, engine === 'mysql' ? 'MariaDB (binary log)' : 'PostgreSQL 14', jobs, out);
  } finally {
    await started.stop();
  }
}
console.log(out.join('\n'));
