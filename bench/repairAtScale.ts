import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { detectAirflowState } from '../src/airflow/detectAirflowState.js';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import { createAirflowSchema, seedTaskInstances } from '../test/fixtures/airflow/airflowSchema.js';
import { controlsEnv, createDagTable, runPythonAirflow, sqlAlchemyUrl, standInCommandLine } from '../test/fixtures/airflow/python/pythonAirflow.js';
import { CLI, cleanEnv } from '../test/helpers/cli.js';
import { createScratchDatabase } from '../test/helpers/servers.js';
import { startBenchMariadb, startBenchPostgres, type BenchServer } from './lib/servers.js';

/**
 * Issue 25, point 1, at production size and outside the default suite: `om-migrate up` on an Airflow database of
 * --rows task instances left half-applied by d59cbbef95eb, on throw-away servers, with --connect-timeout as shipped
 * (10 s). Before the run lock had a session of its own, any repair statement longer than the connect timeout + 1 s
 * read as a lost lock (exit 12). It prints how long each repair action, the backup and Airflow's migrator took, and
 * the exit status. --reader-seconds holds a read transaction on task_instance for that long from just before the repair
 * (a scheduler's open transaction), so that the first repair statement also waits for a lock.
 *
 * Usage: node dist/bench/repairAtScale.js [--rows 1000000] [--dependants 100000] [--engines mysql,postgres]
 *          [--connect-timeout 10s] [--reader-seconds 0]
 * MariaDB is left by a migrator killed after step 7 (key on id, composite unique key, foreign keys dropped); PostgreSQL,
 * which rolls a failed migration back, is migrated and stamped back to 05234396c6fc by hand.
 */
const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' }, dependants: { type: 'string', default: '100000' },
  engines: { type: 'string', default: 'mysql,postgres' }, 'connect-timeout': { type: 'string', default: '10s' },
  'reader-seconds': { type: 'string', default: '0' },
} });
const rows = Number(values.rows);
const readerSeconds = Number(values['reader-seconds']);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Line { at: number; text: string }

async function halfApplied(server: BenchServer, spec: ConnectionSpec): Promise<void> {
  const url = sqlAlchemyUrl({ ...spec, password: spec.password ?? undefined });
  if (server.server.engine === 'mysql') {
    const r = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: url, ...controlsEnv({ stopAfter: 7 }) }, ['db', 'migrate', '-r', 'd59cbbef95eb']);
    if (r.exitCode !== 137) throw new Error(`the stand-in did not stop after step 7: ${r.stderr.slice(-2000)}`);
    return;
  }
  const r = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: url, AIRFLOW__DATABASE__MIGRATION_BATCH_SIZE: '100000' },
    ['db', 'migrate', '-r', 'd59cbbef95eb']);
  if (r.exitCode !== 0) throw new Error(`the stand-in failed: ${r.stderr.slice(-2000)}`);
  const db = await connect(spec);
  try {
    await db.knex.raw("UPDATE alembic_version SET version_num = '05234396c6fc'");
  } finally {
    await db.close();
  }
}

async function runUp(spec: ConnectionSpec, dir: string, onRepairStart: () => void): Promise<{ code: number | null; lines: Line[]; ms: number }> {
  const env = cleanEnv({
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sqlAlchemyUrl({ ...spec, password: spec.password ?? undefined }),
    AIRFLOW__DATABASE__MIGRATION_BATCH_SIZE: '100000',
    OM_MIGRATE_AIRFLOW_COMMAND: standInCommandLine(['db', 'migrate']),
    OM_MIGRATE_AIRFLOW_CHECK_COMMAND: standInCommandLine(['db', 'check-migrations', '-t', '0']),
    OM_MIGRATE_BACKUP_DIR: join(dir, 'backups'),
    OM_MIGRATE_JOURNAL_DIR: join(dir, 'journal'),
    OM_MIGRATE_CONNECT_TIMEOUT: values['connect-timeout']!,
    PYTHONDONTWRITEBYTECODE: '1',
  });
  const t0 = performance.now();
  const lines: Line[] = [];
  const child = spawn(process.execPath, [CLI, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let started = false;
  const collect = (chunk: string) => {
    for (const text of chunk.split('\n').filter((l) => l.trim() !== '')) {
      lines.push({ at: performance.now() - t0, text });
      process.stdout.write(`  ${secs(performance.now() - t0).padStart(8)}  ${text}\n`);
      // The reader starts as the row counts before the steps begin, so that it holds task_instance when the repair starts.
      if (!started && /counting the rows of the entity/.test(text)) {
        started = true;
        onRepairStart();
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, lines, ms: performance.now() - t0 };
}

/** Each repair action's time: from its "[i/n]" line to the next one, the last to the step's end. */
function actionTimes(lines: Line[]): Array<{ action: string; ms: number }> {
  const marks = lines.filter((l) => /^\s*\[\d+\/\d+\]/.test(l.text) || /airflow\/repair-uuid-pk (done|failed)/.test(l.text));
  return marks.slice(0, -1).map((m, i) => ({ action: m.text.trim(), ms: marks[i + 1].at - m.at }));
}

for (const engine of values.engines!.split(',')) {
  const server = engine === 'mysql' ? await startBenchMariadb() : await startBenchPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-scale-'));
  try {
    const db = await createScratchDatabase(server.server, 'omm_scale');
    try {
      const seedStart = performance.now();
      await createAirflowSchema(db.root, server.server.engine);
      await createDagTable(db.root.knex, server.server.engine);
      await seedTaskInstances(db.root, server.server.engine, rows, { withDependants: Math.min(rows, Number(values.dependants)) });
      if (server.server.engine === 'postgres') {
        for (const t of ['task_instance', 'rendered_task_instance_fields', 'task_fail', 'task_instance_history', 'task_instance_note', 'task_map',
          'task_reschedule', 'xcom', 'xcom_id_seq', 'alembic_version', 'dag']) {
          await db.root.knex.raw(`ALTER ${t.endsWith('_seq') ? 'SEQUENCE' : 'TABLE'} ${t} OWNER TO "${db.appSpec.user}"`).catch(() => undefined);
        }
      }
      process.stdout.write(`${server.server.label}: ${rows.toLocaleString('en')} task instances (${values.dependants} with dependants) seeded in ${secs(performance.now() - seedStart)}\n`);
      const brokenStart = performance.now();
      await halfApplied(server, db.appSpec);
      const state = await detectAirflowState(db.root);
      process.stdout.write(`${server.server.label}: half-applied in ${secs(performance.now() - brokenStart)}: ${state.summary}\n`);
      let reader: Awaited<ReturnType<typeof connect>> | undefined;
      const result = await runUp(db.appSpec, dir, () => {
        if (readerSeconds <= 0) return;
        void (async () => {
          reader = await connect(db.rootSpec);
          await reader.knex.raw(server.server.engine === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
          await reader.knex.raw('SELECT COUNT(*) FROM task_instance');
          process.stdout.write(`  (a reader holds task_instance for ${readerSeconds} s)\n`);
          setTimeout(() => void reader!.knex.raw('COMMIT').then(() => reader!.close()), readerSeconds * 1000);
        })();
      });
      process.stdout.write(`\n${server.server.label}, --connect-timeout ${values['connect-timeout']}: up exited ${result.code} after ${secs(result.ms)}\n`);
      for (const a of actionTimes(result.lines)) process.stdout.write(`  ${secs(a.ms).padStart(8)}  ${a.action}\n`);
      const phase = (re: RegExp) => result.lines.find((l) => re.test(l.text))?.at;
      const repair = [phase(/step airflow\/repair-uuid-pk$/), phase(/airflow\/repair-uuid-pk (done|failed)/)];
      if (repair[0] !== undefined && repair[1] !== undefined) {
        process.stdout.write(`  the repair step in all: ${secs(repair[1] - repair[0])}${server.server.engine === 'postgres' ? ' (one transaction: its actions are not timed apart)' : ''}\n`);
      }
      const backup = [phase(/backing up/), phase(/counting the rows of/)];
      if (backup[0] !== undefined && backup[1] !== undefined) process.stdout.write(`  backup and verify: ${secs(backup[1] - backup[0])}\n`);
      const migrator = [phase(/step airflow\/db-migrate/), phase(/airflow\/db-migrate (done|failed)/)];
      if (migrator[0] !== undefined && migrator[1] !== undefined) process.stdout.write(`  airflow db migrate (stand-in): ${secs(migrator[1] - migrator[0])}\n`);
      process.stdout.write('\n');
    } finally {
      await db.drop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}
