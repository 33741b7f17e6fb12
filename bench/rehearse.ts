/**
 * bench:rehearse — what a rehearsal costs next to the backup it restores and the `up` it stands for. An OpenMetadata
 * 1.10.2 + Airflow scenario (the faithful stand-in migrators) on a throw-away MariaDB with binary logging, the
 * OpenMetadata database grown by --size-mb of 4 KB rows; then `om-migrate rehearse` (it takes the backup, restores it
 * into a copy, runs the plan there and drops the copy) and `om-migrate up`, each timed, the rehearsal's parts from its
 * own report.
 *
 *   node dist/bench/rehearse.js [--size-mb 1024]
 */
import { spawnSync } from 'node:child_process';
import { CLI, createUpScenario } from '../test/fixtures/upScenario.js';
import { startBinlogMariadb } from '../test/helpers/binlogMariadb.js';
import { generate } from './lib/run.js';
import { flag } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '1024'));
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

async function main(): Promise<void> {
  const binlog = await startBinlogMariadb();
  try {
    const sc = await createUpScenario(binlog.server);
    try {
      const t0 = performance.now();
      await generate(sc.om.root, Math.ceil((SIZE_MB * 1024 * 1024) / ROW_BYTES));
      await sc.om.root.knex.raw('ANALYZE TABLE bench');
      console.log(`generated ${SIZE_MB} MB in the OpenMetadata database in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

      const rehearsal = run(['rehearse'], sc.env);
      const r = rehearsal.json.result as { outcome: string; timings: { backupMs: number; restoreMs: number; runMs: number; totalMs: number };
        copies: Array<{ database: string; bytes: number; backupMs: number; restoreMs: number }> };
      const up = run(['up'], sc.env);
      const u = up.json.result as { steps: Array<{ name: string; durationMs: number }> };

      console.log(`\nrehearse (${r.outcome}), wall ${rehearsal.seconds.toFixed(1)} s`);
      for (const c of r.copies) {
        console.log(`  ${c.database.padEnd(28)} ${(c.bytes / 1024 / 1024).toFixed(0).padStart(6)} MB  backup ${s(c.backupMs).padStart(8)}  restore ${s(c.restoreMs).padStart(8)}`
          + `  restore/backup ${(c.restoreMs / Math.max(c.backupMs, 1)).toFixed(2)}`);
      }
      console.log(`  backup ${s(r.timings.backupMs)}, restore ${s(r.timings.restoreMs)}, plan on the copies ${s(r.timings.runMs)}, total ${s(r.timings.totalMs)}`);
      console.log(`up, wall ${up.seconds.toFixed(1)} s (steps: ${u.steps.map((x) => `${x.name} ${s(x.durationMs)}`).join(', ')})`);
      console.log(`rehearsal overhead: ${(rehearsal.seconds / up.seconds).toFixed(2)}× the up it rehearses`);
    } finally {
      await sc.cleanup();
    }
  } finally {
    await binlog.stop();
  }
}

await main();
