/**
 * bench:manual — `om-migrate up` against the careful manual procedure it replaces, on the same database, alternating,
 * on throw-away servers. The database is an OpenMetadata 1.10.2 catalogue (SERVER_CHANGE_LOG as the stand-in's
 * fixtures make it) grown by --size-mb of ~4 KB rows over --tables tables; the migrator in both arms is the
 * repository's OpenMetadata stand-in distribution (test/fixtures/openmetadata, release 1.11.0), run the way both run it:
 * `cd <home> && ./bootstrap/openmetadata-ops.sh migrate`. After each arm the database is put back to its 1.10.2 state
 * (the migration's tables and rows and om-migrate's own go), so every run does the same work.
 *
 * The manual arm, each step one stock command as OpenMetadata's pages give it (docs/performance.md, "bench:manual"):
 *   1. note the versions: the dump tool's --version, the server's VERSION(), `openmetadata-ops.sh info`;
 *   2. back up: the dump tool to a file, with the flags a careful operator adds to the page's command (the same as
 *      om-migrate's: --single-transaction --routines --triggers --events …; pg_dump -Fc), then `sync` of the file;
 *   3. hash and verify: `sha256sum`, and the completion line (`tail`) / `pg_restore --list`;
 *   4. raise the parameters: read the old value, `SET GLOBAL sort_buffer_size = 20971520` (as the admin) /
 *      `ALTER DATABASE … SET work_mem = '20MB'` (the owner: a plain `SET` would not reach the migrator's sessions);
 *   5. migrate: `./bootstrap/openmetadata-ops.sh migrate`;
 *   6. put the parameters back.
 * om-migrate's arm: `om-migrate up --json` (its preflight, verified backup, parameters, migration, row counts, revert).
 *
 *   node dist/bench/manual.js [--size-mb 256] [--factors 1,4] [--tables 8] [--repeat 3] [--engines mysql,postgres]
 *                             [--jobs 1] [--cli dist/src/cli/main.js]
 *
 * Goal (issue 26): om-migrate up ≤ 1.0× the manual procedure.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionSpec } from '../src/config/ConnectionSpec.js';
import { connect } from '../src/dialects/connect.js';
import { createDistribution, type Distribution } from '../test/fixtures/openmetadata/distribution.js';
import { createServerChangeLog, insertVersions } from '../test/fixtures/openmetadata/serverChangeLog.js';
import { adminUrl, OM_HISTORY } from '../test/fixtures/upScenario.js';
import { BenchDatabase, benchDatabase, ownRun, timed } from './lib/run.js';
import { BenchServer, startBenchMariadb, startBenchPostgres } from './lib/servers.js';
import { flag, spread } from './lib/stats.js';

const args = process.argv.slice(2);
const SIZE_MB = Number(flag(args, 'size-mb', '256'));
const FACTORS = flag(args, 'factors', '1').split(',').map(Number);
const TABLES = Number(flag(args, 'tables', '8'));
const REPEAT = Number(flag(args, 'repeat', '3'));
const ENGINES = flag(args, 'engines', 'mysql,postgres').split(',');
const JOBS = flag(args, 'jobs', '1').split(',').map(Number);
const CLI = resolve(flag(args, 'cli', fileURLToPath(new URL('../src/cli/main.js', import.meta.url))));
const TARGET = '1.11.0';
const SORT_BUFFER = 20 * 1024 * 1024;

interface Step { name: string; seconds: number }

interface Bench {
  server: BenchServer;
  b: BenchDatabase;
  /** The superuser, connected to the bench database. */
  adminSpec: ConnectionSpec;
  dist: Distribution;
  dir: string;
  /** The OpenMetadata server's environment (openmetadata.yaml's names): what both arms run the migrator with. */
  omEnv: NodeJS.ProcessEnv;
  clientCnf: { app: string; admin: string };
  before: { relations: string[]; versions: string[]; columns: string[]; schemas: string[] };
}

async function q<T = Record<string, unknown>>(spec: ConnectionSpec, sql: string, bindings: unknown[] = []): Promise<T[]> {
  const d = await connect(spec);
  try {
    const r = await d.knex.raw(sql, bindings as never);
    return (d.engine === 'mysql' ? (r as [T[]])[0] : (r as { rows: T[] }).rows) ?? [];
  } finally {
    await d.close();
  }
}

async function state(bench: Bench): Promise<Bench['before']> {
  const d = await connect(bench.adminSpec);
  try {
    const relations = await d.introspect.relationNames();
    const versions = (await d.openmetadata.changeLogVersions()) ?? [];
    const mysql = d.engine === 'mysql';
    const columns = (await q<{ c: string }>(bench.adminSpec, mysql
      ? "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'SERVER_CHANGE_LOG' ORDER BY 1"
      : "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'server_change_log' ORDER BY 1")).map((r) => r.c);
    const schemas = mysql ? [] : (await q<{ s: string }>(bench.adminSpec,
      "SELECT nspname AS s FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1")).map((r) => r.s);
    return { relations, versions: [...versions].sort(), columns, schemas };
  } finally {
    await d.close();
  }
}

/** Back to the 1.10.2 state: whatever the migration or om-migrate added goes, as the superuser. */
async function reset(bench: Bench): Promise<void> {
  const now = await state(bench);
  const before = bench.before;
  const d = await connect(bench.adminSpec);
  try {
    if (d.engine === 'mysql') {
      await d.knex.raw('SET SESSION foreign_key_checks = 0');
      for (const r of now.relations.filter((x) => !before.relations.includes(x))) {
        await d.knex.raw(`DROP TABLE IF EXISTS \`${r}\``).catch(() => d.knex.raw(`DROP VIEW IF EXISTS \`${r}\``));
      }
      for (const c of now.columns.filter((x) => !before.columns.includes(x))) await d.knex.raw(`ALTER TABLE SERVER_CHANGE_LOG DROP COLUMN \`${c}\``);
      // om-migrate's admin journal database (it reverted its parameters; the database itself would only grow).
      await d.knex.raw('DROP DATABASE IF EXISTS om_migrate');
    } else {
      for (const s of now.schemas.filter((x) => !before.schemas.includes(x))) await d.knex.raw(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      const after = await d.introspect.relationNames();
      for (const r of after.filter((x) => !before.relations.includes(x))) {
        const [schema, name] = r.split('.');
        await d.knex.raw(`DROP TABLE IF EXISTS "${schema}"."${name}" CASCADE`).catch(() => d.knex.raw(`DROP VIEW IF EXISTS "${schema}"."${name}" CASCADE`));
      }
      for (const c of now.columns.filter((x) => !before.columns.includes(x))) await d.knex.raw(`ALTER TABLE server_change_log DROP COLUMN "${c}"`);
      await d.knex.raw(`ALTER DATABASE "${bench.b.spec.database}" RESET work_mem`);
    }
    const log = d.engine === 'mysql' ? 'SERVER_CHANGE_LOG' : 'server_change_log';
    await d.knex.raw(`DELETE FROM ${log} WHERE version NOT IN (${before.versions.map(() => '?').join(', ')})`, before.versions);
    await d.knex.raw(`DELETE FROM ${d.engine === 'mysql' ? 'SERVER_MIGRATION_SQL_LOGS' : 'server_migration_sql_logs'}`);
  } finally {
    await d.close();
  }
  const again = await state(bench);
  if (JSON.stringify(again) !== JSON.stringify(before)) throw new Error(`reset did not restore the 1.10.2 state: ${JSON.stringify(again)} vs ${JSON.stringify(before)}`);
}

async function migrated(bench: Bench): Promise<boolean> {
  const d = await connect(bench.adminSpec);
  try {
    return ((await d.openmetadata.changeLogVersions()) ?? []).includes(TARGET);
  } finally {
    await d.close();
  }
}

/** One client call, as a shell script would make it: the MySQL client with an option file, psql with PGPASSWORD. */
function client(bench: Bench, who: 'app' | 'admin', statement: string): { argv: string[]; env: NodeJS.ProcessEnv } {
  const spec = who === 'app' ? bench.b.spec : bench.adminSpec;
  if (spec.engine === 'mysql') {
    const tool = bench.b.db.dumpTool.locateRestore(bench.b.info, process.env).path as string;
    return { argv: [tool, `--defaults-extra-file=${bench.clientCnf[who]}`, `--host=${spec.host}`, `--port=${spec.port}`, `--user=${spec.user}`, '-N', '-B', '-e', statement, bench.b.spec.database], env: process.env };
  }
  return { argv: ['psql', '-h', spec.host, '-p', String(spec.port), '-U', spec.user, '-d', bench.b.spec.database, '-Atc', statement], env: { ...process.env, PGPASSWORD: spec.password ?? '' } };
}

async function manual(bench: Bench): Promise<Step[]> {
  const steps: Step[] = [];
  const run = async (name: string, argv: string[], options: Parameters<typeof timed>[1] = {}) => {
    const r = await timed(argv, options);
    steps.push({ name, seconds: r.seconds });
    return r.out;
  };
  const sqlStep = (name: string, who: 'app' | 'admin', statement: string) => {
    const c = client(bench, who, statement);
    return run(name, c.argv, { env: c.env });
  };
  const { b } = bench;
  const mysql = b.db.engine === 'mysql';
  // 1. the versions
  await run('note versions', [b.tool.path as string, '--version']);
  await sqlStep('note versions', 'app', 'SELECT VERSION()');
  await run('note versions', ['./bootstrap/openmetadata-ops.sh', 'info'], { cwd: bench.dist.home, env: bench.omEnv });
  // 2. the backup, durable
  const file = join(bench.dir, mysql ? 'manual.sql' : 'manual.dump');
  const inv = b.db.dumpTool.dumpInvocation(b.spec, b.tool, b.info);
  const fd = openSync(file, 'w', 0o600);
  try {
    await run('dump', inv.argv, { env: { ...process.env, ...inv.env }, stdout: fd });
    await run('sync', ['sync', file]);
  } finally {
    closeSync(fd);
    inv.dispose();
  }
  // 3. hash and verify
  await run('hash + verify', ['sha256sum', file]);
  if (mysql) {
    const tail = await run('hash + verify', ['tail', '-c', '512', file]);
    if (!/-- Dump completed/.test(tail)) throw new Error('the manual dump has no completion line');
  } else {
    await run('hash + verify', [b.db.dumpTool.locateRestore(b.info, process.env).path as string, '--list', file], { stdout: 'ignore' });
  }
  // 4. raise the parameters
  let old = '';
  if (mysql) {
    old = (await sqlStep('raise parameters', 'admin', 'SELECT @@GLOBAL.sort_buffer_size')).trim();
    await sqlStep('raise parameters', 'admin', `SET GLOBAL sort_buffer_size = ${SORT_BUFFER}`);
  } else {
    await sqlStep('raise parameters', 'app', 'SHOW work_mem');
    await sqlStep('raise parameters', 'app', `ALTER DATABASE "${b.spec.database}" SET work_mem = '20MB'`);
  }
  // 5. migrate
  await run('migrate', ['./bootstrap/openmetadata-ops.sh', 'migrate'], { cwd: bench.dist.home, env: bench.omEnv });
  // 6. put the parameters back
  if (mysql) await sqlStep('revert parameters', 'admin', `SET GLOBAL sort_buffer_size = ${Number(old)}`);
  else await sqlStep('revert parameters', 'app', `ALTER DATABASE "${b.spec.database}" RESET work_mem`);
  rmSync(file, { force: true });
  return steps;
}

async function setUp(server: BenchServer, name: string, sizeMb: number, search: Server): Promise<Bench> {
  const b = await benchDatabase(server, name, sizeMb, { tables: TABLES });
  await createServerChangeLog(b.db, { metrics: false });
  await insertVersions(b.db, OM_HISTORY);
  const dir = mkdtempSync(join(tmpdir(), 'omm-bench-manual-'));
  const adminSpec = { ...server.server.admin, database: name };
  const clientCnf = { app: join(dir, 'app.cnf'), admin: join(dir, 'admin.cnf') };
  writeFileSync(clientCnf.app, `[client]\npassword="${b.spec.password ?? ''}"\n`, { mode: 0o600 });
  writeFileSync(clientCnf.admin, `[client]\npassword="${server.server.admin.password ?? ''}"\n`, { mode: 0o600 });
  const dist = await createDistribution(TARGET);
  const omEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    DB_SCHEME: b.spec.engine === 'mysql' ? 'mysql' : 'postgresql', DB_DRIVER_CLASS: b.spec.engine === 'mysql' ? 'com.mysql.cj.jdbc.Driver' : 'org.postgresql.Driver',
    DB_HOST: b.spec.host, DB_PORT: String(b.spec.port),
    DB_USER: b.spec.user, DB_USER_PASSWORD: b.spec.password ?? '', OM_DATABASE: b.spec.database,
    // Something listening where the migrator looks for the search service (both arms alike).
    ELASTICSEARCH_HOST: '127.0.0.1', ELASTICSEARCH_PORT: String((search.address() as { port: number }).port),
  };
  const bench: Bench = { server, b, adminSpec, dist, dir, omEnv, clientCnf, before: { relations: [], versions: [], columns: [], schemas: [] } };
  bench.before = await state(bench);
  return bench;
}

interface Row { label: string; manual: number[]; ours: Map<number, { seconds: number[]; ratio: number[]; cpu: number[]; rss: number[] }>; parts: Map<string, number[]> }

async function benchEngine(engine: string, rows: Row[]): Promise<void> {
  const server = engine === 'mysql' ? await startBenchMariadb() : await startBenchPostgres();
  const search = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => search.listen(0, '127.0.0.1', r));
  try {
    for (const factor of FACTORS) {
      const bench = await setUp(server, `bench_om_${factor}x`, SIZE_MB * factor, search);
      const row: Row = { label: `${server.server.label} ${SIZE_MB * factor} MB`, manual: [], ours: new Map(JOBS.map((j) => [j, { seconds: [], ratio: [], cpu: [], rss: [] }])), parts: new Map() };
      const env = {
        ...bench.omEnv, OM_MIGRATE_OM_HOME: bench.dist.home, OM_MIGRATE_ADMIN_URL: adminUrl(server.server.admin),
        OM_MIGRATE_BACKUP_DIR: join(bench.dir, 'backups'), OM_MIGRATE_JOURNAL_DIR: join(bench.dir, 'journal'),
      };
      try {
        for (let i = 0; i < REPEAT; i += 1) {
          const order: Array<number | 'manual'> = ['manual', ...JOBS];
          if (i % 2 === 1) order.reverse();
          let manualSeconds = 0;
          const line: string[] = [];
          const ours = new Map<number, number>();
          for (const which of order) {
            if (which === 'manual') {
              const steps = await manual(bench);
              manualSeconds = steps.reduce((s, x) => s + x.seconds, 0);
              const parts = new Map<string, number>();
              for (const s of steps) parts.set(s.name, (parts.get(s.name) ?? 0) + s.seconds);
              for (const [name, seconds] of parts) row.parts.set(name, [...(row.parts.get(name) ?? []), seconds]);
              line.push(`manual ${manualSeconds.toFixed(2)} s (${[...parts].map(([n, s]) => `${n} ${s.toFixed(2)}`).join(', ')})`);
            } else {
              const run = await ownRun(CLI, ['up', '--json', ...(which > 1 ? ['--jobs', String(which)] : [])], env, undefined, join(bench.dir, 'usage.json'));
              const result = JSON.parse(run.out) as { ok: boolean; result?: { outcome: string } };
              if (!result.ok || result.result?.outcome !== 'migrated') throw new Error(`om-migrate up did not migrate: ${run.out.slice(0, 500)}`);
              rmSync(env.OM_MIGRATE_BACKUP_DIR, { recursive: true, force: true });
              ours.set(which, run.seconds);
              const s = row.ours.get(which)!;
              s.seconds.push(run.seconds); s.cpu.push(run.cpuSeconds); s.rss.push(run.peakRssMb);
              line.push(`up${which > 1 ? ` --jobs ${which}` : ''} ${run.seconds.toFixed(2)} s`);
            }
            if (!(await migrated(bench))) throw new Error(`${which} did not migrate to ${TARGET}`);
            await reset(bench);
          }
          row.manual.push(manualSeconds);
          for (const [j, seconds] of ours) row.ours.get(j)!.ratio.push(seconds / manualSeconds);
          console.log(`  ${row.label} run ${i + 1}: ${line.join('; ')}`);
        }
      } finally {
        rows.push(row);
        await bench.dist.cleanup();
        rmSync(bench.dir, { recursive: true, force: true });
        await bench.b.db.close();
        const admin = await connect(server.server.admin);
        await admin.knex.raw(engine === 'mysql' ? `DROP DATABASE \`bench_om_${factor}x\`` : `DROP DATABASE "bench_om_${factor}x" WITH (FORCE)`).catch(() => undefined);
        await admin.close();
      }
    }
  } finally {
    search.close();
    await server.stop();
  }
}

console.log(`bench:manual — ${CLI}; ${FACTORS.map((f) => `${SIZE_MB * f} MB`).join(', ')} over ${TABLES} tables; up with --jobs ${JOBS.join(', ')}; `
  + `${REPEAT} alternating repeats; ${ENGINES.join(', ')}; ${cpus().length} cores; throw-away servers; OpenMetadata 1.10.2 → ${TARGET} (stand-in)`);
const rows: Row[] = [];
for (const engine of ENGINES) await benchEngine(engine, rows);
console.log('\nmedian [min–max] of the repeats; ratio = om-migrate up ÷ the manual procedure of the same repeat (goal ≤ 1.0)');
for (const r of rows) {
  console.log(`\n${r.label}: manual procedure ${spread(r.manual)} s = ${[...r.parts].map(([n, s]) => `${n} ${spread(s)}`).join(' + ')}`);
  for (const [j, s] of r.ours) {
    console.log(`  om-migrate up${j > 1 ? ` --jobs ${j}` : ''}: ${spread(s.seconds)} s, ratio ${spread(s.ratio, 3)}, own CPU ${spread(s.cpu)} s, peak RSS ${spread(s.rss, 1)} MB`);
  }
}

