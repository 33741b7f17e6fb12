/**
 * bench:restore-on-failure — what `up --restore-on-failure` costs when a step fails, next to an `up` that succeeds. An
 * OpenMetadata 1.10.2 + Airflow scenario (the faithful stand-in migrators) on a throw-away server (MariaDB with binary
 * logging, or an embedded PostgreSQL 14), the OpenMetadata database grown by --size-mb of 4 KB rows; three fresh
 * scenarios per engine: `up` (succeeds), `up` whose OpenMetadata migrator fails at 1.10.3 after deleting the rows
 * (exit 8, nothing restored), and the same with --restore-on-failure (exit 16), its restore, verification and swap
 * timed from its own summary.
 *
 *   node dist/bench/restoreOnFailure.js [--size-mb 1024] [--engines mysql,postgres]
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { CLI, createUpScenario, type UpScenario } from '../test/fixtures/upScenario.js';
import { startBinlogMariadb } from '../test/helpers/binlogMariadb.js';
import type { TestServer } from '../test/helpers/servers.js';
import { generateTables } from './lib/run.js';
import { startBenchPostgres } from './lib/servers.js';
import { KEPT_PREFIX, RESTORE_PREFIX, sourceHash } from '../src/config/scratchNames.js';
import { flag } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '1024'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const ROW_BYTES = 4096;

interface Envelope { ok: boolean; exitCode: number; result?: Record<string, unknown>; error?: { code: string; message: string; details?: Record<string, unknown> } }

function run(argv: string[], env: NodeJS.ProcessEnv, expected: number): { seconds: number; json: Envelope } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...argv, '--json'], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const json = JSON.parse(r.stdout) as Envelope;
  if (r.status !== expected) throw new Error(`${argv.join(' ')} exited ${r.status}, not ${expected}: ${json.error?.message ?? r.stderr}`);
  return { seconds, json };
}

async function scenarioOf(server: TestServer): Promise<{ sc: UpScenario; table: string }> {
  const sc = await createUpScenario(server);
  const [table] = await generateTables(sc.om.root, Math.ceil((SIZE_MB * 1024 * 1024) / ROW_BYTES), 1);
  await sc.om.root.knex.raw(server.engine === 'mysql' ? `ANALYZE TABLE ${table}` : `ANALYZE ${table}`);
  if (server.engine === 'postgres') await sc.om.root.knex.raw(`ALTER TABLE ${table} OWNER TO "${sc.om.appSpec.user}"`);
  // PostgreSQL renames only a database no session uses: the fixture's own session goes before up.
  await sc.om.root.close();
  await sc.airflow.root.close();
  return { sc, table };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function once(server: TestServer, label: string, out: string[]): Promise<void> {
  const results: Array<{ name: string; seconds: number; json: Envelope }> = [];
  for (const mode of ['up', 'fail', 'restore'] as const) {
    const { sc, table } = await scenarioOf(server);
    try {
      const fail = { OM_STANDIN_FAIL_AT: '1.10.3', OM_STANDIN_DELETE_ROWS: table };
      const r = mode === 'up' ? run(['up'], sc.env, 0)
        : mode === 'fail' ? run(['up'], { ...sc.env, ...fail }, 8)
        : run(['up', '--restore-on-failure'], { ...sc.env, ...fail }, 16);
      results.push({ name: mode, ...r });
    } finally {
      await dropLeft(sc);
      await sc.cleanup();
    }
  }
  const [up, fail, restore] = results;
  const restored = (restore.json.error?.details?.restored ?? []) as Array<{ database: string; timings: { restoreMs: number; verifyMs: number; swapMs: number } }>;
  out.push(`\n${label}, ${SIZE_MB} MB in the OpenMetadata database:`);
  out.push(`  up (succeeds)                          wall ${up.seconds.toFixed(1)} s`);
  out.push(`  up, migrator fails (exit 8)            wall ${fail.seconds.toFixed(1)} s`);
  out.push(`  up --restore-on-failure, fails (16)    wall ${restore.seconds.toFixed(1)} s`);
  for (const d of restored) out.push(`    ${d.database}: restore into the copy ${s(d.timings.restoreMs)}, verify ${s(d.timings.verifyMs)}, swap ${s(d.timings.swapMs)}`);
  out.push(`  the restore path adds ${(restore.seconds - fail.seconds).toFixed(1)} s to a failure (${((restore.seconds - fail.seconds) / up.seconds).toFixed(2)}× a successful up)`);
}

/** The kept failed state and any copy, which the scenario's cleanup does not know of (and PostgreSQL's role owns). */
async function dropLeft(sc: UpScenario): Promise<void> {
  const { connect } = await import('../src/dialects/connect.js');
  const admin = await connect(sc.server.admin);
  try {
    const mysql = sc.server.engine === 'mysql';
    const r = await admin.knex.raw(mysql ? 'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA' : 'SELECT datname AS n FROM pg_database');
    const names = ((mysql ? r[0] : r.rows) as Array<{ n: string }>).map((x) => x.n)
      // Named by the product's own rule (prefix, hash of the exact source, run, readable name), not guessed here.
      .filter((n) => [sc.om.appSpec, sc.airflow.appSpec].some((spec) =>
        [RESTORE_PREFIX, KEPT_PREFIX].some((prefix) => n.startsWith(`${prefix}${sourceHash(spec)}_`))));
    for (const n of names) await admin.scratch.drop(n);
  } finally {
    await admin.close();
  }
}

console.log(`bench:restore-on-failure — ${SIZE_MB} MB; ${ENGINES.join(', ')}; ${cpus().length} cores; throw-away servers`);
const out: string[] = [];
for (const engine of ENGINES) {
  const started = engine === 'mysql' ? await startBinlogMariadb() : await startBenchPostgres();
  try {
    await once(started.server, engine === 'mysql' ? 'MariaDB (binary log)' : 'PostgreSQL 14', out);
    // Each engine's lines as soon as it is done: a later engine's failure must not take them with it.
    console.log(out.splice(0).join('\n'));
  } finally {
    await started.stop();
  }
}
