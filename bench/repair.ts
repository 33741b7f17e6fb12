import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { detectAirflowState } from '../src/airflow/detectAirflowState.js';
import { planRepair } from '../src/airflow/planRepair.js';
import { runRepair } from '../src/airflow/runRepair.js';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import { createAirflowSchema, seedTaskInstances } from '../test/fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../test/fixtures/airflow/python/migrateToUuidPk.js';
import { SERVERS, createScratchDatabase } from '../test/helpers/servers.js';

/**
 * repair-airflow against the OpenMetadata docs' hand-written fix on the usual stuck state (revision 05234396c6fc,
 * task_instance.id left behind), on the local MariaDB, alternating in one run. Usage: node dist/bench/repair.js
 * [--rows 1000000] [--rounds 3]
 */
const DOCS_SQL = "ALTER TABLE task_instance DROP COLUMN id; UPDATE alembic_version SET version_num = '05234396c6fc';";

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const server = SERVERS.find((s) => s.engine === 'mysql')!;

async function stick(spec: ConnectionSpec): Promise<void> {
  await runStandInMigration(spec, { stopAfter: 1 }).catch((e) => {
    if (!(e instanceof SimulatedCrash)) throw e;
  });
}

async function timeRepair(spec: ConnectionSpec): Promise<number> {
  const t0 = performance.now();
  const dialect = await connect(spec);
  try {
    const state = await detectAirflowState(dialect);
    await runRepair(dialect, planRepair(state, dialect.airflowRepair));
  } finally {
    await dialect.close();
  }
  return performance.now() - t0;
}

function timeDocs(spec: ConnectionSpec): number {
  const t0 = performance.now();
  const r = spawnSync('mariadb', ['-h', spec.host, '-P', String(spec.port), '-u', spec.user, spec.database, '-e', DOCS_SQL],
    { env: { ...process.env, MYSQL_PWD: spec.password ?? '' }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mariadb client failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const db = await createScratchDatabase(server, 'omm_bench');
try {
  process.stdout.write(`seeding ${rows.toLocaleString('en')} task_instance rows on ${server.label}…\n`);
  const seedStart = performance.now();
  await createAirflowSchema(db.root, 'mysql');
  await seedTaskInstances(db.root, 'mysql', rows, { withDependants: Math.min(rows, 10_000) });
  process.stdout.write(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);
  const repair: number[] = [];
  const docs: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    // Alternate which goes first so neither always meets a warmer buffer pool.
    const order = i % 2 === 0 ? ['repair', 'docs'] : ['docs', 'repair'];
    for (const which of order) {
      await stick(db.appSpec);
      if (which === 'repair') repair.push(await timeRepair(db.appSpec));
      else docs.push(timeDocs(db.appSpec));
    }
  }
  const ratio = median(repair) / median(docs);
  process.stdout.write(`repair-airflow (library: connect, detect, plan, run, verify): ${repair.map((x) => x.toFixed(0)).join(', ')} ms, median ${median(repair).toFixed(0)} ms\n`);
  process.stdout.write(`docs' SQL through the mariadb client:                       ${docs.map((x) => x.toFixed(0)).join(', ')} ms, median ${median(docs).toFixed(0)} ms\n`);
  process.stdout.write(`ratio ${ratio.toFixed(2)} (target <= 1.2)\n`);
} finally {
  await db.drop();
}
