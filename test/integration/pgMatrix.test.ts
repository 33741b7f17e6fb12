import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { planRepair } from '../../src/airflow/planRepair.js';
import { runRepair } from '../../src/airflow/runRepair.js';
import { manifestPathFor, restoreBackup, runBackup, verifyBackup } from '../../src/backup/index.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import type { WorkMemScope } from '../../src/config/resolveConfig.js';
import { runPreflight } from '../../src/api/preflight.js';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import { connect } from '../../src/dialects/connect.js';
import { locatePgTool } from '../../src/dialects/postgres/pgToolDiscovery.js';
import type { Dialect } from '../../src/dialects/types.js';
import { isOmMigrateError } from '../../src/errors.js';
import type { ConnectedTarget } from '../../src/core/Gate.js';
import { applyParameterChanges, createParameterRun, findUnreverted, sortMemoryRequest } from '../../src/params/index.js';
import { acquireRunLock } from '../../src/lock/runLock.js';
import { withParameterGuard } from '../../src/params/withParameterGuard.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { createAirflowSchema, rowCounts, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { schemaSnapshot } from '../fixtures/airflow/schemaSnapshot.js';
import { FIXTURE_OM_VERSION, loadFixture, objectsWork, tableDigests } from '../fixtures/backupFixture.js';
import { createPipelineTables, insertPipelineRuns } from '../fixtures/openmetadata/pipelineStatus.js';
import { createServerChangeLog, insertVersions, TRICKY_VERSIONS } from '../fixtures/openmetadata/serverChangeLog.js';
import { AIRFLOW_HEAD, createUpScenario, type UpScenario } from '../fixtures/upScenario.js';
import { cleanEnv, omArgs, runCli } from '../helpers/cli.js';
import { EMBEDDED_MAJORS, type EmbeddedMajor, type EmbeddedPostgres, startEmbeddedPostgres } from '../helpers/embeddedPostgres.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/servers.js';
import { airflowRevision, omVersion, runCli as runUpCli } from '../helpers/upHarness.js';

/**
 * A focused subset of the integration suite on every PostgreSQL major om-migrate supports but the machine's own 15
 * (which runs the whole suite): throw-away servers from npm (test/helpers/embeddedPostgres.ts), so that server-wide
 * changes — ALTER SYSTEM, idle_session_timeout, allow_alter_system — are finally testable without touching a shared
 * server. Two majors run at a time (2 cores); OM_MIGRATE_PG_MATRIX picks majors ("12,17"; "none" skips the file).
 *
 * The backup cases follow the pg_dump om-migrate chooses (the newest on PATH or under /usr/lib/postgresql/<major>/bin):
 * a server it can dump gets a real backup and restore, a newer one must be refused by preflight's backup gate before
 * anything changes. --pg-bin-dir is exercised with wrapper scripts around Debian's real binaries.
 */
const MAJORS: EmbeddedMajor[] = selectedMajors(process.env.OM_MIGRATE_PG_MATRIX);
const CONCURRENCY = Math.max(1, Math.min(2, Number(process.env.OM_MIGRATE_PG_MATRIX_CONCURRENCY ?? 2)));
const PATH_PG_DUMP_MAJOR = bestPgDumpMajor();
/** Debian's real binaries, which the --pg-bin-dir wrappers exec. */
const DEBIAN_BIN = PATH_PG_DUMP_MAJOR ? `/usr/lib/postgresql/${PATH_PG_DUMP_MAJOR}/bin` : undefined;
const BYTES = 20 * 1024 * 1024;
const HOUR = 3_600_000;
const CHILD = fileURLToPath(new URL('../fixtures/paramsChild.js', import.meta.url));

function selectedMajors(text: string | undefined): EmbeddedMajor[] {
  if (text === undefined || text.trim() === '') return [...EMBEDDED_MAJORS];
  if (text.trim() === 'none') return [];
  const wanted = text.split(',').map((s) => Number(s.trim()));
  for (const m of wanted) if (!EMBEDDED_MAJORS.includes(m as EmbeddedMajor)) throw new Error(`OM_MIGRATE_PG_MATRIX: ${m} is not one of ${EMBEDDED_MAJORS.join(', ')}`);
  return wanted as EmbeddedMajor[];
}

/** The major of the newest pg_dump om-migrate can find here without --pg-bin-dir, or 0 when there is none. */
function bestPgDumpMajor(): number {
  return locatePgTool('pg_dump', 0, { env: { PATH: process.env.PATH } }).chosen?.major ?? 0;
}

/**
 * A --pg-bin-dir of shell scripts named pg_dump and pg_restore that exec Debian's binaries: a directory nothing else
 * searches, so a backup made through it proves the option was used. `claim` makes pg_dump print another version for
 * --version while still running the real one (a mislabelled install).
 */
function wrapperBinDir(dir: string, claim?: string): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of ['pg_dump', 'pg_restore']) {
    const lie = claim && tool === 'pg_dump' ? `if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) ${claim}"; exit 0; fi\n` : '';
    writeFileSync(join(dir, tool), `#!/bin/sh\n${lie}exec ${DEBIAN_BIN}/${tool} "$@"\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
}

type Rows = Array<Record<string, unknown>>;
async function q(d: Dialect, sql: string, bindings: unknown[] = []): Promise<Rows> {
  return ((await d.knex.raw(sql, bindings as never)) as unknown as { rows: Rows }).rows;
}

/** Everything server-wide a parameter change could leave behind: role/database settings, the settings, postgresql.auto.conf. */
async function serverSettingsSnapshot(admin: ConnectionSpec): Promise<Record<string, unknown>> {
  const d = await connect(admin);
  try {
    return {
      dbRoleSettings: await q(d, `SELECT coalesce(r.rolname, '') AS role, coalesce(db.datname, '') AS db, s.setconfig
        FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database db ON db.oid = s.setdatabase ORDER BY 1, 2`),
      // Server-wide values only: what this snapshot's own session set (application_name…) differs per connection.
      settings: await q(d, `SELECT name, setting, reset_val, source, sourcefile, pending_restart FROM pg_settings
        WHERE source NOT IN ('client', 'session') ORDER BY name`),
      fileSettings: await q(d, 'SELECT sourcefile, name, setting, applied, error FROM pg_file_settings ORDER BY sourcefile, seqno'),
    };
  } finally {
    await d.close();
  }
}

/** work_mem as a brand-new session of `spec` gets it: what the migrator's sessions would see. */
async function newSessionWorkMem(spec: ConnectionSpec): Promise<string> {
  const d = await connect(spec);
  try {
    return String((await q(d, 'SHOW work_mem'))[0].work_mem);
  } finally {
    await d.close();
  }
}

async function connectTarget(spec: ConnectionSpec, role: 'openmetadata' | 'airflow' = 'openmetadata'): Promise<ConnectedTarget> {
  const dialect = await connect(spec, { purpose: 'up' });
  return { role, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
}

describe(`PostgreSQL matrix (${MAJORS.join(', ') || 'none'}; pg_dump on PATH: ${PATH_PG_DUMP_MAJOR || 'none'})`, { concurrency: CONCURRENCY }, () => {
  for (const major of MAJORS) {
    // One major's cases run one after another (node:test would inherit the matrix's concurrency): they share its server.
    describe(`PostgreSQL ${major} (embedded)`, { concurrency: 1 }, () => {
      let pg: EmbeddedPostgres;
      const work = mkdtempSync(join(tmpdir(), `omm-matrix-${major}-`));
      const journalDir = mkdtempSync(join(work, 'journal-'));
      const open: Array<{ close(): Promise<void> }> = [];
      /** Scratch databases are not dropped one by one: the whole server goes (DROP DATABASE … WITH (FORCE) is 13+). */
      const scratch = async (prefix: string): Promise<ScratchDatabase> => {
        const db = await createScratchDatabase(pg.server, prefix);
        open.push(db.root);
        return db;
      };
      const scenarios: UpScenario[] = [];
      const scenario = async (): Promise<UpScenario> => {
        const sc = await createUpScenario(pg.server);
        scenarios.push(sc);
        open.push(sc.om.root, sc.airflow.root);
        if (major < 13) {
          // Airflow's d59cbbef95eb installs pgcrypto where gen_random_uuid() is not built in (before 13); so must the stand-in.
          await sc.airflow.root.knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
        }
        return sc;
      };

      before(async () => {
        pg = await startEmbeddedPostgres(major);
      });
      after(async () => {
        await Promise.allSettled(open.map((c) => c.close()));
        for (const sc of scenarios) for (const dir of [sc.backupDir, sc.journalDir]) rmSync(dir, { recursive: true, force: true });
        await pg?.stop();
        rmSync(work, { recursive: true, force: true });
      });

      it('preflight --json on an OpenMetadata-shaped database: version, stale runs, lock, sort memory, backup gate', async () => {
        const db = await scratch('omm_pf');
        const app = await connect(db.appSpec);
        open.push(app);
        await createServerChangeLog(app);
        await insertVersions(app, TRICKY_VERSIONS);
        await createPipelineTables(app);
        await insertPipelineRuns(app, [
          { fqn: 'svc.stuck', runId: 'r1', state: 'running', startedMsAgo: 7 * HOUR },
          { fqn: 'svc.done', runId: 'r2', state: 'success', startedMsAgo: 9 * HOUR },
        ]);
        const { args, env } = omArgs(db.appSpec);
        const r = await runCli(['preflight', '--json', '--to', '1.11.0', '--backup-dir', join(work, 'pf-backups'), ...args], { env });
        const report = (JSON.parse(r.stdout) as { result: { exitCode: number; blocked: boolean; findings: Array<{ gate: string; severity: string; summary: string; fix?: string }> } }).result;
        const gate = (id: string) => report.findings.filter((f) => f.gate === id);
        assert.equal(gate('connection')[0]?.severity, 'ok', JSON.stringify(gate('connection')));
        assert.match(gate('connection')[0].summary, new RegExp(`PostgreSQL ${major}\\.`), 'names the server version');
        assert.equal(gate('versions').find((f) => /1\.10\.2 → 1\.11\.0/.test(f.summary))?.severity, 'ok', JSON.stringify(gate('versions')));
        assert.equal(gate('stale-runs')[0]?.severity, 'warn');
        assert.match(gate('stale-runs')[0].summary, /svc\.stuck/);
        assert.equal(gate('lock')[0]?.severity, 'ok');
        assert.equal(gate('sort-memory')[0]?.severity, 'warn', 'the owner may ALTER DATABASE … SET work_mem');
        const tool = gate('backup').find((f) => /pg_dump/.test(f.summary));
        if (PATH_PG_DUMP_MAJOR >= major) {
          assert.equal(tool?.severity, 'ok', JSON.stringify(gate('backup')));
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(report.blocked, false);
        } else {
          assert.equal(tool?.severity, 'block', JSON.stringify(gate('backup')));
          assert.match(tool?.summary ?? '', new RegExp(`^pg_dump ${PATH_PG_DUMP_MAJOR} cannot dump a PostgreSQL ${major} server`));
          assert.match(tool?.fix ?? '', new RegExp(`postgresql-client-${major}`));
          assert.equal(r.code, 4, r.stderr);
          assert.equal(report.blocked, true);
        }
      });

      it('preflight --dry-run --work-mem-scope system: nothing changes on the server or in the database, the plan names ALTER SYSTEM and its revert', async () => {
        const db = await scratch('omm_dry');
        const app = await connect(db.appSpec);
        open.push(app);
        await createServerChangeLog(app);
        await insertVersions(app, TRICKY_VERSIONS);
        const backupDir = join(work, 'dry-backups');
        const config = resolveConfig({ dbScheme: 'postgresql', dbHost: db.appSpec.host, dbPort: String(db.appSpec.port), dbUser: db.appSpec.user,
          database: db.name, adminUrl: `postgresql://postgres@127.0.0.1:${pg.port}/postgres`, to: '1.11.0', backupDir, workMemScope: 'system' },
        cleanEnv({ DB_USER_PASSWORD: db.appSpec.password! }));
        const before = { server: await serverSettingsSnapshot(pg.server.admin), schema: await schemaSnapshot(db.root) };
        const report = await runPreflight(config, { dryRun: true });
        assert.deepEqual({ server: await serverSettingsSnapshot(pg.server.admin), schema: await schemaSnapshot(db.root) }, before);
        assert.deepEqual(readdirSync(work).filter((f) => f === 'dry-backups'), [], 'the backup directory is not created');
        const sort = report.plan?.parameterChanges.find((c) => c.gate === 'sort-memory');
        assert.deepEqual(sort?.sql, ["ALTER SYSTEM SET work_mem = '20MB'", 'SELECT pg_catalog.pg_reload_conf()'], JSON.stringify(report.plan));
        assert.deepEqual(sort?.revertSql, ['ALTER SYSTEM RESET work_mem', 'SELECT pg_catalog.pg_reload_conf()']);
        assert.match(report.plan?.backups[0]?.file ?? '', new RegExp(`^${backupDir}/${db.name}-om1\\.10\\.2-\\d{8}T\\d{6}Z\\.dump$`));
        const tool = report.findings.find((f) => f.gate === 'backup' && /pg_dump/.test(f.summary));
        assert.equal(tool?.severity, PATH_PG_DUMP_MAJOR >= major ? 'ok' : 'block', JSON.stringify(tool));
      });

      for (const scope of ['database', 'role', 'system'] as WorkMemScope[]) {
        it(`work_mem raised and put back exactly at ${scope} scope${scope === 'system' ? ' (ALTER SYSTEM + pg_reload_conf, as the superuser)' : ' (as the owning application user)'}`, async () => {
          const db = await scratch('omm_wm');
          const before = await serverSettingsSnapshot(pg.server.admin);
          const defaultWorkMem = await newSessionWorkMem(db.appSpec);
          const t = await connectTarget(db.appSpec);
          const admin = scope === 'system' ? await connect(pg.server.admin) : undefined;
          try {
            const read = () => (admin ?? db.root).params.readBack(
              { parameter: 'work_mem', scope, object: scope === 'role' ? db.appSpec.user : scope === 'database' ? db.name : undefined });
            assert.equal(await read(), null, 'nothing set at this scope before');
            const run = createParameterRun({ targets: [t], adminFor: async () => admin, journalDir });
            await withParameterGuard(run, async () => {
              const applied = await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: scope })]);
              assert.equal(applied.length, 1);
              assert.equal(applied[0].scope, scope);
              assert.equal(applied[0].previous, null);
              assert.equal(await read(), '20MB');
              assert.equal(await newSessionWorkMem(db.appSpec), '20MB', 'a new session of the migrator sees the raised value');
            });
            assert.equal(await read(), null, 'RESET: no setting existed before');
            assert.equal(await newSessionWorkMem(db.appSpec), defaultWorkMem);
            // An admin-made change is journaled in the admin's own schema, where the application user cannot write.
            const journals = await run.readableJournals(t);
            const entries = (await Promise.all(journals.map(async (j) => (await j.store.ofRun(run.runId)).map((e) => ({ ...e, kind: j.kind })))))
              .flat();
            assert.deepEqual(entries.map((e) => `${e.kind}:${e.status}`), [`${admin ? 'admin' : 'application'}:reverted`]);
            assert.deepEqual(await findUnreverted([t], { journalDir }), []);
            assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before, 'pg_db_role_setting, pg_settings, pg_file_settings as before');
          } finally {
            await t.dialect.close();
            await admin?.close();
          }
        });
      }

      it('ALTER SYSTEM with a previous postgresql.auto.conf value: put back to that value, not RESET', async () => {
        const db = await scratch('omm_wm');
        const admin = await connect(pg.server.admin);
        open.push(admin);
        await admin.knex.raw("ALTER SYSTEM SET work_mem = '6MB'");
        await admin.knex.raw('SELECT pg_reload_conf()');
        try {
          const before = await serverSettingsSnapshot(pg.server.admin);
          const t = await connectTarget(db.appSpec);
          try {
            const run = createParameterRun({ targets: [t], adminFor: async () => admin, journalDir });
            await withParameterGuard(run, async () => {
              const [entry] = await applyParameterChanges(run, [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'system' })]);
              assert.equal(entry.previous, '6MB');
              assert.deepEqual(admin.params.revertStatements(entry), ["ALTER SYSTEM SET work_mem = '6MB'", 'SELECT pg_catalog.pg_reload_conf()']);
            });
          } finally {
            await t.dialect.close();
          }
          assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before);
        } finally {
          await admin.knex.raw('ALTER SYSTEM RESET work_mem');
          await admin.knex.raw('SELECT pg_reload_conf()');
        }
      });

      it('the server identity the journal keys on is pg_control_system()\'s system identifier, for an ordinary user too', async () => {
        const db = await scratch('omm_id');
        const app = await connect(db.appSpec);
        open.push(app);
        const admin = await connect(pg.server.admin);
        open.push(admin);
        const id = String((await q(admin, 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0].id);
        assert.equal(await app.params.serverIdentity(), `postgres://system/${id}`);
      });

      if (major >= 14) {
        // 14+: a DBA's idle_session_timeout would end the pinned lock session while om-migrate waits on a long step, and
        // knex's pool would open a new one without a word; the lock connection sets idle_session_timeout = 0.
        it('the run lock survives a server-wide idle_session_timeout', async () => {
          const db = await scratch('omm_idle');
          await pg.reconfigure({ idle_session_timeout: '1s' });
          const first = await connectTarget(db.appSpec);
          const second = await connectTarget(db.appSpec);
          try {
            const lock = await acquireRunLock([first], 0, { command: 'up' });
            await new Promise((r) => setTimeout(r, 2500)); // the migrator runs; the lock session is idle
            await assert.rejects(acquireRunLock([second], 0), (e: unknown) => isOmMigrateError(e) && e.code === 'LOCK_HELD',
              'a second run must not get the lock while the first still runs');
            await lock.release();
          } finally {
            await pg.reconfigure({ idle_session_timeout: undefined });
            await Promise.allSettled([first.dialect.close(), second.dialect.close()]);
          }
        });
      }

      if (major >= 17) {
        // 17+: allow_alter_system = off (what Patroni and Kubernetes operators set) makes ALTER SYSTEM fail with 0A000
        // "ALTER SYSTEM is not allowed in this environment". Preflight must block on it, and an apply refused so must
        // end BLOCKED with nothing journaled to put back (before the fix: REVERT_FAILED, exit 9, nothing changed).
        describe('allow_alter_system = off', { concurrency: 1 }, () => {
          before(async () => pg.reconfigure({ allow_alter_system: 'off' }));
          after(async () => pg.reconfigure({ allow_alter_system: undefined }));

          it('preflight --work-mem-scope system blocks, naming allow_alter_system', async () => {
            const db = await scratch('omm_aas');
            const { args, env } = omArgs(db.appSpec);
            const r = await runCli(['preflight', '--json', '--work-mem-scope', 'system', '--backup-dir', join(work, 'aas-backups'), ...args],
              { env: { ...env, OM_MIGRATE_ADMIN_URL: `postgresql://postgres@127.0.0.1:${pg.port}/postgres` } });
            const report = (JSON.parse(r.stdout) as { result: { findings: Array<{ gate: string; severity: string; summary: string }> } }).result;
            const f = report.findings.find((x) => x.gate === 'sort-memory');
            assert.equal(f?.severity, 'block', JSON.stringify(f));
            assert.match(f?.summary ?? '', /allow_alter_system/);
          });

          it('an ALTER SYSTEM refused by allow_alter_system is BLOCKED with nothing to put back', async () => {
            const db = await scratch('omm_aas');
            const before = await serverSettingsSnapshot(pg.server.admin);
            const t = await connectTarget(db.appSpec);
            const admin = await connect(pg.server.admin);
            try {
              const run = createParameterRun({ targets: [t], adminFor: async () => admin, journalDir });
              await assert.rejects(withParameterGuard(run, () => applyParameterChanges(run,
                [sortMemoryRequest(t, { sortBufferBytes: BYTES, workMemBytes: BYTES, workMemScope: 'system' })])),
              (e: unknown) => isOmMigrateError(e) && e.code === 'BLOCKED');
              assert.deepEqual(await findUnreverted([t], { journalDir }), [], 'no journal entry left to revert');
              assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before);
            } finally {
              await Promise.allSettled([t.dialect.close(), admin.close()]);
            }
          });
        });
      }

      it('run lock: while one run holds it, a second gets LOCK_HELD naming it, and `up` exits 5 with nothing changed', async () => {
        const sc = await scenario();
        const before = await serverSettingsSnapshot(pg.server.admin);
        // The first run: another process holding the run lock (and work_mem raised), as a running `up` would.
        const child = spawn(process.execPath, [CHILD], {
          env: { PATH: process.env.PATH, OMM_CHILD: JSON.stringify({ targets: [{ role: 'openmetadata', spec: sc.om.appSpec }], bytes: 1, scope: 'database', journalDir }) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise((r) => child.once('exit', r));
        try {
          for (let i = 0; i < 300 && !out.includes('APPLIED'); i += 1) await new Promise((r) => setTimeout(r, 50));
          assert.match(out, /APPLIED/);
          const t = await connectTarget(sc.om.appSpec);
          try {
            await assert.rejects(acquireRunLock([t], 0), (e: unknown) => isOmMigrateError(e) && e.code === 'LOCK_HELD'
              && new RegExp(`pid=${child.pid}`).test(e.message));
          } finally {
            await t.dialect.close();
          }
          const second = await runUpCli(sc, ['up', '--json']);
          assert.equal(second.code, 5, second.stdout + second.stderr);
          assert.equal(second.json.error.code, 'LOCK_HELD');
          assert.match(second.json.error.message, new RegExp(`pid=${child.pid} on `));
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
        assert.equal(await omVersion(sc), '1.10.2');
        assert.equal(await airflowRevision(sc), '05234396c6fc');
        assert.deepEqual(readdirSync(sc.backupDir), []);
        assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before);
      });

      describe('Airflow repair of d59cbbef95eb', { concurrency: 1 }, () => {
        let reference: Record<string, unknown>;
        let referenceCounts: Record<string, number>;
        const airflowDb = async () => {
          const db = await scratch('omm_af');
          if (major < 13) await db.root.knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
          const app = await connect(db.appSpec);
          open.push(app);
          await createAirflowSchema(app, 'postgres');
          await seedTaskInstances(app, 'postgres', 40);
          return { db, app };
        };
        before(async () => {
          const { app } = await airflowDb();
          reference = await schemaSnapshot(app);
          referenceCounts = await rowCounts(app);
        });

        it('a crash inside the migration leaves nothing behind (one transaction)', async () => {
          const { db, app } = await airflowDb();
          await assert.rejects(runStandInMigration(db.appSpec, { stopAfter: 7 }), (e) => e instanceof SimulatedCrash);
          assert.equal((await detectAirflowState(app)).kind, 'healthy-before');
          assert.deepEqual(await schemaSnapshot(app), reference);
        });

        it('repairs a manual stamp of d59cbbef95eb on the old schema (the OpenMetadata docs\' state)', async () => {
          const { db, app } = await airflowDb();
          await db.root.knex.raw("UPDATE alembic_version SET version_num = 'd59cbbef95eb'");
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'half-applied');
          const plan = planRepair(state, app.airflowRepair);
          assert.deepEqual(plan.actions.map((a) => a.id), ['stamp-revision']);
          await runRepair(app, plan);
          assert.deepEqual(await schemaSnapshot(app), reference);
          assert.equal(await runStandInMigration(db.appSpec), 'migrated');
          assert.equal((await detectAirflowState(app)).kind, 'fully-migrated');
        });

        it('repairs a migrated schema stamped back to 05234396c6fc, in one transaction, keeping every row', async () => {
          const { db, app } = await airflowDb();
          await runStandInMigration(db.appSpec);
          await db.root.knex.raw("UPDATE alembic_version SET version_num = '05234396c6fc'");
          const state = await detectAirflowState(app);
          assert.equal(state.kind, 'half-applied');
          const plan = planRepair(state, app.airflowRepair);
          assert.equal(plan.transactional, true);
          await runRepair(app, plan);
          assert.deepEqual(await schemaSnapshot(app), reference);
          assert.deepEqual(await rowCounts(app), referenceCounts);
        });
      });

      if (PATH_PG_DUMP_MAJOR >= major) {
        it(`backup with pg_dump ${PATH_PG_DUMP_MAJOR}, verified, restored into a fresh database with every table identical`, async () => {
          const source = await scratch('omm_bk');
          const app = await connect(source.appSpec);
          open.push(app);
          await loadFixture(app);
          const dir = join(work, 'backups');
          const manifest = await runBackup({ role: 'openmetadata', dialect: app }, { backupDir: dir, backupCompress: 'none', env: process.env });
          assert.equal(manifest.openmetadataVersion, FIXTURE_OM_VERSION);
          const manifestPath = manifestPathFor(join(dir, manifest.file));
          assert.ok((await verifyBackup(manifestPath, { env: process.env })).ok);
          const target = await scratch('omm_rs');
          await target.root.knex.raw(`ALTER DATABASE "${target.name}" OWNER TO "${source.appSpec.user}"`);
          await restoreBackup(manifestPath, { openmetadata: source.appSpec, airflow: undefined, env: process.env }, { into: target.name });
          assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
          const restored = await connect({ ...source.appSpec, database: target.name });
          try {
            assert.deepEqual(await objectsWork(restored), { shout: 'OK!', auditGrew: true, viewRows: 501 });
          } finally {
            await restored.close();
          }
        });

        it('backup and restore through --pg-bin-dir: the wrappers there are the tools that run, recorded in the manifest', async () => {
          const binDir = wrapperBinDir(join(work, 'wrapped-bin'));
          const source = await scratch('omm_bd');
          const app = await connect(source.appSpec);
          open.push(app);
          await loadFixture(app);
          const dir = join(work, 'bindir-backups');
          const manifest = await runBackup({ role: 'openmetadata', dialect: app }, { backupDir: dir, backupCompress: 'none', pgBinDir: binDir, env: process.env });
          assert.equal(manifest.tool.path, join(binDir, 'pg_dump'), 'the pg_dump under --pg-bin-dir ran, not Debian\'s on PATH');
          const target = await scratch('omm_bdr');
          await target.root.knex.raw(`ALTER DATABASE "${target.name}" OWNER TO "${source.appSpec.user}"`);
          // restore takes OM_MIGRATE_PG_BIN_DIR through the CLI's configuration; here the config field directly.
          await restoreBackup(manifestPathFor(join(dir, manifest.file)), { openmetadata: source.appSpec, airflow: undefined, pgBinDir: binDir, env: process.env }, { into: target.name });
          assert.deepEqual(await tableDigests(target.root), await tableDigests(source.root));
        });

        it('a --pg-bin-dir pg_dump that claims 17.0 but is really older is not taken at its word: preflight blocks on the header it writes', async () => {
          const binDir = wrapperBinDir(join(work, 'liar17-bin'), '17.0');
          const db = await scratch('omm_liar');
          const { args, env } = omArgs(db.appSpec);
          const r = await runCli(['preflight', '--json', '--pg-bin-dir', binDir, '--backup-dir', join(work, 'liar17-backups'), ...args], { env });
          const report = (JSON.parse(r.stdout) as { result: { findings: Array<{ gate: string; severity: string; summary: string; fix?: string }> } }).result;
          const f = report.findings.find((x) => x.gate === 'backup' && /pg_dump/.test(x.summary));
          assert.equal(f?.severity, 'block', JSON.stringify(report.findings.filter((x) => x.gate === 'backup')));
          assert.match(f?.summary ?? '', new RegExp(`reports pg_dump \\(PostgreSQL\\) 17\\.0 but the dump it wrote says pg_dump ${PATH_PG_DUMP_MAJOR}\\.`));
          assert.equal(r.code, 4, r.stderr);
        });

        it('up end to end with --work-mem-scope system: backups, both migrations, ALTER SYSTEM put back', async () => {
          const sc = await scenario();
          const before = await serverSettingsSnapshot(pg.server.admin);
          const run = await runUpCli(sc, ['up', '--json', '--work-mem-scope', 'system']);
          assert.equal(run.code, 0, run.stdout + run.stderr);
          assert.equal(await omVersion(sc), '1.11.0');
          assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
          assert.deepEqual(run.json.result.parameters.map((p: { parameter: string; scope: string; restored: string }) => `${p.parameter}@${p.scope}:${p.restored}`),
            ['work_mem@system:reverted'], 'one ALTER SYSTEM for both databases of the server');
          assert.equal(run.json.result.backups.length, 2);
          assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before);
        });
      } else {
        it(`a --pg-bin-dir pg_dump that claims ${major}.0 but is really ${PATH_PG_DUMP_MAJOR}: preflight runs it, sees the refusal, blocks (exit 4)`, async () => {
          const binDir = wrapperBinDir(join(work, 'liar-bin'), `${major}.0`);
          const db = await scratch('omm_liar');
          const before = await serverSettingsSnapshot(pg.server.admin);
          const { args, env } = omArgs(db.appSpec);
          const r = await runCli(['preflight', '--json', '--pg-bin-dir', binDir, '--backup-dir', join(work, 'liar-backups'), ...args], { env });
          const report = (JSON.parse(r.stdout) as { result: { findings: Array<{ gate: string; severity: string; summary: string; fix?: string }> } }).result;
          const f = report.findings.find((x) => x.gate === 'backup' && /pg_dump/.test(x.summary));
          assert.equal(f?.severity, 'block', JSON.stringify(report.findings.filter((x) => x.gate === 'backup')));
          assert.match(f?.summary ?? '', new RegExp(`${binDir}/pg_dump reports pg_dump \\(PostgreSQL\\) ${major}\\.0 but refused the PostgreSQL ${major}\\.`));
          assert.match(f?.summary ?? '', /server version mismatch|pg_dump version/);
          assert.match(f?.fix ?? '', new RegExp(`postgresql-client-${major}.*--pg-bin-dir`));
          assert.equal(r.code, 4, r.stderr);
          assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before);
        });

        it(`pg_dump ${PATH_PG_DUMP_MAJOR} cannot dump PostgreSQL ${major}: up is BLOCKED by the backup gate (exit 4), nothing changed`, async () => {
          const sc = await scenario();
          const before = await serverSettingsSnapshot(pg.server.admin);
          const run = await runUpCli(sc, ['up', '--json', '--work-mem-scope', 'system']);
          assert.equal(run.code, 4, run.stdout + run.stderr);
          assert.equal(run.json.error.code, 'BLOCKED');
          assert.match(JSON.stringify(run.json.error), new RegExp(`pg_dump ${PATH_PG_DUMP_MAJOR} cannot dump a PostgreSQL ${major} server`));
          assert.deepEqual(await serverSettingsSnapshot(pg.server.admin), before, 'pg_db_role_setting / pg_settings / pg_file_settings unchanged');
          assert.equal(await omVersion(sc), '1.10.2');
          assert.equal(await airflowRevision(sc), '05234396c6fc');
          assert.deepEqual(readdirSync(sc.backupDir), [], 'no backup file');
        });
      }
    });
  }
});
