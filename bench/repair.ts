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
import { addIdReferenceColumns, strayReferences } from '../test/fixtures/airflow/idReferenceColumns.js';
import { createScratchDatabase } from '../test/helpers/servers.js';
import { startBenchMariadb } from './lib/servers.js';
import { spread } from './lib/stats.js';

/**
 * On a throw-away MariaDB of its own, alternating in one run:
 *   - repair: repair-airflow on the usual stuck state (revision 05234396c6fc, task_instance.id left behind) against the
 *     OpenMetadata docs' hand-written fix through the mariadb client;
 *   - ids: the apache/airflow#54554 id rewrite (repair-airflow --fix-malformed-ids: task_instance with its indexes and
 *     foreign keys, and the three referencing columns of Airflow 3.0, indexed, two with foreign keys) against one
 *     `UPDATE task_instance SET id = <UUIDv7>` of the same table through the client, referencing columns ignored.
 * Usage: node dist/bench/repair.js [--rows 200000] [--dependants 10000] [--rounds 3] [--scenarios repair,ids]
 * Target (issue 16): ratio ≤ 1.2.
 */
const DOCS_SQL = "ALTER TABLE task_instance DROP COLUMN id; UPDATE alembic_version SET version_num = '05234396c6fc';";
const UUID_V7 = (ts: string) => {
  const ms = `LPAD(LOWER(HEX(CAST(FLOOR(UNIX_TIMESTAMP(${ts}) * 1000) AS UNSIGNED))), 12, '0')`;
  const rnd = 'MD5(CONCAT(UUID(), RAND()))';
  return `CONCAT(SUBSTRING(${ms}, 1, 8), '-', SUBSTRING(${ms}, 9, 4), '-7', SUBSTRING(${rnd}, 1, 3), '-', `
    + `SUBSTRING('89ab', 1 + FLOOR(RAND() * 4), 1), SUBSTRING(${rnd}, 1, 3), '-', SUBSTRING(${rnd}, 1, 12))`;
};
const MALFORMED = "id NOT REGEXP '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'";
const SINGLE_UPDATE = `SET FOREIGN_KEY_CHECKS = 0; UPDATE task_instance SET id = ${UUID_V7('COALESCE(queued_dttm, start_date, NOW(3))')} WHERE ${MALFORMED};`;
// Airflow 3.0.0-3.0.5's shape of a malformed id (last group of 8), written into task_instance and its copies alike.
const MALFORM = `SET FOREIGN_KEY_CHECKS = 0; UPDATE task_instance SET id = CONCAT(LEFT(UUID(), 24), LEFT(MD5(RAND()), 8));
  UPDATE task_instance_note r JOIN task_instance ti USING (dag_id, task_id, run_id, map_index) SET r.ti_id = ti.id;
  UPDATE task_reschedule r JOIN task_instance ti USING (dag_id, task_id, run_id, map_index) SET r.ti_id = ti.id;
  UPDATE task_instance_history r JOIN task_instance ti USING (dag_id, task_id, run_id, map_index) SET r.task_instance_id = ti.id;`;

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, dependants: { type: 'string', default: '10000' },
  rounds: { type: 'string', default: '3' }, scenarios: { type: 'string', default: 'repair,ids' } } });
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const scenarios = values.scenarios!.split(',');

function client(spec: ConnectionSpec, sql: string): number {
  const t0 = performance.now();
  const r = spawnSync('mariadb', ['-h', spec.host, '-P', String(spec.port), '-u', spec.user, spec.database, '-e', sql],
    { env: { ...process.env, MYSQL_PWD: spec.password ?? '' }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mariadb client failed: ${r.stderr}`);
  return ms;
}

async function timeRepair(spec: ConnectionSpec, fixMalformedIds: boolean): Promise<number> {
  const t0 = performance.now();
  const dialect = await connect(spec);
  try {
    const state = await detectAirflowState(dialect);
    await runRepair(dialect, planRepair(state, dialect.airflowRepair, { fixMalformedIds }));
  } finally {
    await dialect.close();
  }
  return performance.now() - t0;
}

async function compare(label: string, ours: () => Promise<number>, theirs: () => number, reset: () => Promise<void>, theirsLabel: string): Promise<void> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    // Alternate which goes first so neither always meets a warmer buffer pool.
    for (const which of i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours']) {
      await reset();
      if (which === 'ours') a.push(await ours()); else b.push(theirs());
    }
  }
  const ratios = a.map((x, i) => x / b[i]);
  process.stdout.write(`${label}: ${a.map((x) => x.toFixed(0)).join(', ')} ms\n${theirsLabel}: ${b.map((x) => x.toFixed(0)).join(', ')} ms\n`
    + `ratio median [min–max] ${spread(ratios)} (target <= 1.2)\n\n`);
}

const server = await startBenchMariadb();
try {
  for (const scenario of scenarios) {
    const db = await createScratchDatabase(server.server, 'omm_bench');
    try {
      process.stdout.write(`${scenario}: seeding ${rows.toLocaleString('en')} task_instance rows (${values.dependants} with dependants) on a throw-away MariaDB…\n`);
      const seedStart = performance.now();
      await createAirflowSchema(db.root, 'mysql');
      await seedTaskInstances(db.root, 'mysql', rows, { withDependants: Math.min(rows, Number(values.dependants)) });
      if (scenario === 'ids') {
        await runStandInMigration(db.appSpec);
        await addIdReferenceColumns(db.root.knex);
      }
      process.stdout.write(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);
      if (scenario === 'repair') {
        await compare('repair-airflow (library: connect, detect, plan, run, verify)', () => timeRepair(db.appSpec, false), () => client(db.appSpec, DOCS_SQL),
          async () => { await runStandInMigration(db.appSpec, { stopAfter: 1 }).catch((e) => { if (!(e instanceof SimulatedCrash)) throw e; }); },
          "docs' SQL through the mariadb client");
      } else {
        await compare('repair-airflow --fix-malformed-ids (library: connect, detect, plan, one transaction, verify)', () => timeRepair(db.appSpec, true),
          () => client(db.appSpec, SINGLE_UPDATE), async () => { client(db.rootSpec, MALFORM); },
          'one UPDATE of task_instance.id through the mariadb client (references not kept)');
        client(db.rootSpec, MALFORM);
        await timeRepair(db.appSpec, true);
        const stray = await strayReferences(db.root.knex);
        if (stray !== 0) throw new Error(`${stray} referencing rows lost their task instance`);
      }
    } finally {
      await db.drop();
    }
  }
} finally {
  await server.stop();
}
