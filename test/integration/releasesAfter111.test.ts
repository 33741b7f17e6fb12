import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { connect } from '../../src/dialects/connect.js';
import { QUARTZ_TABLES, seedCatalogue } from '../fixtures/openmetadata/catalogue.js';
import { historyOf } from '../fixtures/openmetadata/releases.js';
import type { UpScenario } from '../fixtures/upScenario.js';
import { backupFiles, omVersion, runCli, startCli, upTestServers, waitFor } from '../helpers/upHarness.js';

/**
 * OpenMetadata after 1.11 (docs/facts/openmetadata.md, "Releases after 1.11"), end to end on both engines with the
 * stand-in distributions of 1.13.0, 2.0.0, 2.0.5 and 2.1.0, which behave at their edges as the real releases do:
 * 1.13.0 empties the Quartz tables, deletes the pipelines of Iceberg services and on PostgreSQL builds an index
 * concurrently; 2.0.0 renames thread_entity; 2.1 refuses a database below 2.0.0, even with --force, and writes status
 * rows.
 */
const { engines, scenario } = upTestServers();

interface Finding { gate: string; target: string; severity: string; summary: string; fix?: string; data?: Record<string, unknown> }

const findings = (run: { json: { result?: { findings?: Finding[] } } }): Finding[] => run.json.result?.findings ?? [];

async function query(sc: UpScenario, sql: string): Promise<Array<Record<string, unknown>>> {
  const result = await sc.om.root.knex.raw(sql);
  return sc.server.engine === 'mysql' ? (result as unknown as [Array<Record<string, unknown>>])[0] : (result as { rows: Array<Record<string, unknown>> }).rows;
}

async function count(sc: UpScenario, table: string): Promise<number> {
  return Number((await query(sc, `SELECT COUNT(*) AS n FROM ${table}`))[0].n);
}

/** A session of OpenMetadata's user as a running server holds one: a plain client, not naming itself om-migrate. */
function serverSession(sc: UpScenario): Knex {
  const spec = sc.om.appSpec;
  return knexFactory({
    client: spec.engine === 'mysql' ? 'mysql2' : 'pg',
    connection: { host: spec.host, port: spec.port, user: spec.user, password: spec.password, database: spec.database,
      ...(spec.engine === 'postgres' ? { application_name: 'OpenMetadata server (test)' } : {}) },
    pool: { min: 1, max: 1 },
  });
}

for (const engine of engines) {
  describe(`OpenMetadata 1.12 … 2.1: ${engine.label}`, () => {
    it('1.11.4 → 2.0.5 in one plan: the notes of 1.12, 1.13 and 2.0 shown; up migrates, 2.0.0\'s rename and 1.13.0\'s clean-ups reported as expected', async () => {
      const sc = await scenario(engine.server(), { release: '2.0.5', history: historyOf('1.11.4') });
      const seeded = await seedCatalogue(sc.om);

      const dry = await runCli(sc, ['preflight', '--dry-run', '--json']);
      assert.equal(dry.code, 0, dry.stdout + dry.stderr);
      const notes = findings(dry).filter((f) => f.gate === 'versions' && f.data?.note);
      for (const id of ['1.12.0/search-9.3', '1.13.0/stop-servers', '1.13.0/iceberg-removed', '1.13.4/python-3.12', '2.0.0/no-downgrade', '2.0.0/thread-entity-renamed']) {
        assert.ok(notes.some((n) => n.data?.note === id), `${id} shown: ${notes.map((n) => n.data?.note).join(', ')}`);
      }
      assert.deepEqual(notes.filter((n) => !/^1\.1[23]\.|^2\.0\./.test(String(n.data?.version))).map((n) => n.data?.note), [], 'only releases the plan crosses');
      const head = findings(dry).find((f) => f.gate === 'versions' && f.severity === 'ok' && Array.isArray(f.data?.path));
      assert.deepEqual(head?.data?.path, ['1.11.4', '2.0.5']);
      assert.match(head!.summary, /OpenMetadata 1\.11\.4 → 2\.0\.5: \d+ version\(s\) pending \(1\.11\.5 … 2\.0\.5\)/);
      const stopped = findings(dry).filter((f) => f.gate === 'servers-stopped');
      assert.deepEqual(stopped.map((f) => f.severity), ['ok'], JSON.stringify(stopped));
      assert.deepEqual(dry.json.result.plan.releasePath, ['1.11.4', '2.0.5']);
      assert.equal(dry.json.result.plan.betterTarget, null);
      const text = await runCli(sc, ['preflight', '--dry-run']);
      assert.match(text.stdout, /path {5}1\.11\.4 → 2\.0\.5/);
      assert.match(text.stdout, /1\.13\.0: Its migration clears the Quartz scheduler tables/);
      assert.match(text.stdout, /2\.0\.0: Its migration renames thread_entity/);

      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const s = up.json.result;
      assert.equal(s.after.openmetadata.current, '2.0.5');
      assert.equal(await omVersion(sc), '2.0.5');
      assert.deepEqual(s.rowCounts.lost, []);
      const expected = new Map<string, { release: string; why: string }>(s.rowCounts.expected.map((e: { table: string; release: string; why: string }) => [e.table.toLowerCase(), e]));
      assert.equal(expected.get('thread_entity')?.release, '2.0.0');
      assert.match(expected.get('thread_entity_legacy')!.why, new RegExp(`renames thread_entity to thread_entity_legacy .*\\(${seeded.threads} rows kept\\)`));
      for (const t of QUARTZ_TABLES) assert.equal(expected.get(t.toLowerCase())?.release, '1.13.0', `${t} emptied by 1.13.0`);
      assert.match(expected.get('ingestion_pipeline_entity')!.why, new RegExp(`Iceberg .*\\(${seeded.icebergPipelines} of at most ${seeded.icebergPipelines}\\)`));
      assert.equal(await count(sc, 'thread_entity_legacy'), seeded.threads);
      assert.equal(await count(sc, 'ingestion_pipeline_entity'), seeded.otherPipelines);
      for (const t of QUARTZ_TABLES) assert.equal(await count(sc, t), 0);
      assert.ok(s.afterUpgrade.some((f: Finding) => f.data?.note === '2.0.0/thread-entity-renamed'), 'what to do after the upgrade is in the summary');
    });

    it('1.11.4 → 2.1.0 is blocked before anything changes, naming the hop through the latest 2.0.x; 2.1\'s migrator refuses it even with --force', async () => {
      const sc = await scenario(engine.server(), { release: '2.1.0', history: historyOf('1.11.4') });
      const dry = await runCli(sc, ['preflight', '--dry-run', '--json']);
      assert.equal(dry.code, 4, dry.stdout + dry.stderr);
      const hop = findings(dry).find((f) => f.gate === 'versions' && f.severity === 'block');
      assert.match(hop!.summary, /OpenMetadata 2\.1\.0 cannot migrate a database at 1\.11\.4: it must be on 2\.0\.0 or later first/);
      assert.match(hop!.fix!, /Upgrade to the latest 2\.0\.x \(2\.0\.5 or later\) first/);
      assert.deepEqual(hop!.data?.path, ['1.11.4', 'the latest 2.0.x (2.0.5 or later) (with its own distribution)', '2.1.0']);

      assert.deepEqual(dry.json.result.plan.releasePath, ['1.11.4', 'the latest 2.0.x (2.0.5 or later) (with its own distribution)', '2.1.0']);
      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 4, up.stdout + up.stderr);
      assert.match(up.json.error.message, /must be on 2\.0\.0 or later first/);
      assert.equal(await omVersion(sc), '1.11.4');
      assert.deepEqual(backupFiles(sc), [], 'no backup, nothing raised, nothing run');

      // The stand-in's migrator itself, as 2.1's gate does it: before --force is looked at.
      const driver = sc.server.engine === 'mysql' ? 'com.mysql.cj.jdbc.Driver' : 'org.postgresql.Driver';
      const direct = spawnSync('./bootstrap/openmetadata-ops.sh', ['migrate', '--force'], { cwd: sc.distribution.home, env: { ...sc.env, DB_DRIVER_CLASS: driver }, encoding: 'utf8' });
      assert.equal(direct.status, 1, direct.stdout + direct.stderr);
      assert.match(direct.stdout, /must be on 2\.0\.0 or later first/);
      assert.equal(await omVersion(sc), '1.11.4');
    });

    it('2.0.5 → 2.1.0: the status column arrives; a FAILED row does not count, is reported, and runs again', async () => {
      const sc = await scenario(engine.server(), { release: '2.1.0', history: historyOf('2.0.5') });
      const failed = await runCli(sc, ['up', '--json'], { OM_STANDIN_FAIL_AT: '2.1.0' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      assert.deepEqual((await query(sc, "SELECT version, status FROM SERVER_CHANGE_LOG WHERE version = '2.1.0'")).map((r) => [r.version, r.status]), [['2.1.0', 'FAILED']]);
      assert.equal(await omVersion(sc), '2.0.5', 'a FAILED row does not count as applied');

      const pf = await runCli(sc, ['preflight', '--json']);
      const row = findings(pf).find((f) => f.data?.code === 'change-log-failed');
      assert.match(row!.summary, /2\.1\.0 failed and was recorded as FAILED/);
      assert.match(row!.summary, /the migrator runs 2\.1\.0 again/);
      const head = findings(pf).find((f) => f.gate === 'versions' && Array.isArray(f.data?.pending) && f.severity === 'ok');
      assert.deepEqual(head?.data?.pending, ['2.1.0']);
      const status = await runCli(sc, ['status']);
      assert.match(status.stdout, /SERVER_CHANGE_LOG: 2\.1\.0 is FAILED/);

      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.equal(await omVersion(sc), '2.1.0');
      assert.deepEqual((await query(sc, "SELECT status FROM SERVER_CHANGE_LOG WHERE version = '2.1.0'")).map((r) => r.status), ['COMPLETED']);
    });

    it('crossing 1.13.0 with another session of OpenMetadata\'s user connected is blocked untouched, naming it; once it is gone up passes', async () => {
      const sc = await scenario(engine.server(), { release: '1.13.0', history: historyOf('1.12.1') });
      await seedCatalogue(sc.om);
      const server = serverSession(sc);
      try {
        await server.raw('SELECT 1');
        const up = await runCli(sc, ['up', '--json']);
        assert.equal(up.code, 4, up.stdout + up.stderr);
        const block = up.json.error.details.blocks.find((b: Finding) => b.gate === 'servers-stopped');
        assert.match(block.summary, /1 other session\(s\) of \S+ on \S+ — an OpenMetadata server still running\? 1\.13\.0's migration empties the Quartz scheduler tables/);
        assert.match(block.summary, /session \d+ from \S+ since \d{4}-\d\d-\d\dT/);
        assert.match(block.fix, /docker compose stop openmetadata-server.*kubectl scale deployment openmetadata --replicas=0/);
        const sessions = block.data.sessions as Array<{ program?: string }>;
        assert.equal(sessions.length, 1, 'om-migrate\'s own sessions are never listed');
        assert.equal(await omVersion(sc), '1.12.1');
        assert.deepEqual(backupFiles(sc), []);
        assert.equal(await count(sc, 'QRTZ_LOCKS'), 3, 'the Quartz tables are untouched');

        // A rehearsal migrates a copy: the running server does not stop it.
        const rehearsal = await runCli(sc, ['rehearse', '--json']);
        assert.equal(rehearsal.code, 0, rehearsal.stdout + rehearsal.stderr);
        assert.equal(rehearsal.json.result.outcome, 'passed');
        assert.equal(await omVersion(sc), '1.12.1');

        // entrypoint waits (within --lock-timeout) for the server to go, then migrates and starts the wrapped command.
        const entry = startCli(sc, ['entrypoint', '--lock-timeout', '60s', '--', '/bin/true']);
        await waitFor('entrypoint waiting for the other session', () => /waiting up to \d+ s for OpenMetadata's other sessions to end/.test(entry.output().stderr + entry.output().stdout));
        await server.destroy();
        const done = await entry.done;
        assert.equal(done.code, 0, done.stdout + done.stderr);
      } finally {
        await server.destroy();
      }
      assert.equal(await omVersion(sc), '1.13.0');
      assert.equal(await count(sc, 'QRTZ_LOCKS'), 0);
    });

    it('2.0.0\'s rename is expected while an unexpected loss makes up exit 14 (ROWS_LOST) and entrypoint keep the server down', async () => {
      const sc = await scenario(engine.server(), { release: '2.0.0', history: historyOf('1.13.0') });
      const seeded = await seedCatalogue(sc.om);
      const dry = await runCli(sc, ['preflight', '--dry-run', '--json']);
      assert.equal(dry.json.result.plan.betterTarget.release, '2.0.5 or later', 'a 2.0.0 target names the release that restores what it loses');
      assert.ok(findings(dry).some((f) => f.severity === 'warn' && /2\.0\.0 is not the release to upgrade to/.test(f.summary)));
      const up = await runCli(sc, ['up', '--json'], { OM_STANDIN_DELETE_ROWS: 'table_entity:3' });
      assert.equal(up.code, 14, up.stdout + up.stderr);
      assert.equal(up.json.error.code, 'ROWS_LOST');
      assert.match(up.json.error.message, /ROWS LOST: openmetadata\.table_entity 20 → 17 \(−3\)/);
      assert.doesNotMatch(up.json.error.message, /thread_entity/, 'the rename is not a loss');
      const expected = up.json.error.details.expected as Array<{ table: string; release: string }>;
      assert.deepEqual(expected.map((e) => [e.table.toLowerCase(), e.release]).sort(), [['thread_entity', '2.0.0'], ['thread_entity_legacy', '2.0.0']]);
      assert.match(up.json.error.hint, /restore --manifest \S+\.manifest\.json/);
      assert.equal(await count(sc, 'thread_entity_legacy'), seeded.threads);

      // In a container: the same loss, and the wrapped server never starts.
      const sc2 = await scenario(engine.server(), { release: '2.0.0', history: historyOf('1.13.0') });
      await seedCatalogue(sc2.om);
      const markerDir = mkdtempSync(join(tmpdir(), 'omm-entry-'));
      const marker = join(markerDir, 'server-started');
      const entry = await runCli(sc2, ['entrypoint', '--', '/bin/sh', '-c', `touch ${marker}`], { OM_STANDIN_DELETE_ROWS: 'table_entity:3' });
      assert.equal(entry.code, 14, entry.stdout + entry.stderr);
      assert.match(entry.stderr, /ROWS LOST: openmetadata\.table_entity 20 → 17/);
      assert.equal(existsSync(marker), false, 'the wrapped command (the server) was not started');
      rmSync(markerDir, { recursive: true, force: true });
    });

    it('a migrator that cannot start is a block before anything changes: no --om-home, the ops script not executable, no Java, no airflow', async () => {
      const sc = await scenario(engine.server(), { release: '1.11.0' });
      const missingHome = await runCli(sc, ['up', '--json', '--om-home', '/nonexistent/openmetadata', '--om-migrator', './bootstrap/openmetadata-ops.sh migrate']);
      assert.equal(missingHome.code, 4, missingHome.stdout + missingHome.stderr);
      const start = (run: typeof missingHome) => (run.json.error.details.blocks as Finding[]).filter((b) => b.gate === 'migrator-start');
      assert.match(start(missingHome)[0].summary, /--om-home \/nonexistent\/openmetadata does not exist/);

      chmodSync(sc.distribution.opsScript, 0o644);
      const notExecutable = await runCli(sc, ['up', '--json']);
      assert.equal(notExecutable.code, 4, notExecutable.stdout + notExecutable.stderr);
      assert.match(start(notExecutable)[0].summary, /openmetadata-ops\.sh is not executable/);
      assert.match(start(notExecutable)[0].fix!, /chmod \+x/);
      chmodSync(sc.distribution.opsScript, 0o755);

      const noJava = await runCli(sc, ['up', '--json'], { JAVA_HOME: '/nonexistent/jdk' });
      assert.equal(noJava.code, 4, noJava.stdout + noJava.stderr);
      assert.match(start(noJava)[0].summary, /no Java \(\/nonexistent\/jdk\/bin\/java does not exist\)/);

      const noAirflow = await runCli(sc, ['up', '--json'], { OM_MIGRATE_AIRFLOW_COMMAND: 'airflow-not-installed-here db migrate' });
      assert.equal(noAirflow.code, 4, noAirflow.stdout + noAirflow.stderr);
      assert.match(start(noAirflow).find((b) => b.target === 'airflow')!.summary, /the Airflow migrator cannot start: airflow-not-installed-here is not on PATH/);

      assert.equal(await omVersion(sc), '1.10.2');
      assert.deepEqual(backupFiles(sc), [], 'no backup was taken');
    });

    it('gaps in SERVER_CHANGE_LOG: a 1.12.1 migrator never runs them (warned), a 1.13.0 one runs them', async () => {
      const sc = await scenario(engine.server(), { release: '1.12.1', history: historyOf('1.12.1').filter((v) => v !== '1.11.2' && v !== '1.11.3') });
      const old = await runCli(sc, ['preflight', '--json']);
      const gap = findings(old).find((f) => f.data?.code === 'change-log-gaps');
      assert.deepEqual(gap?.data?.gaps, ['1.11.2', '1.11.3']);
      assert.match(gap!.summary, /the 1\.12\.1 migrator never runs a version below the highest one/);
      assert.match(gap!.fix!, /1\.13\.0 or later/);

      await sc.withDistribution('1.13.0');
      await seedCatalogue(sc.om);
      const pf = await runCli(sc, ['preflight', '--json']);
      const filled = findings(pf).find((f) => f.data?.code === 'change-log-gaps-filled');
      assert.deepEqual(filled?.data?.gaps, ['1.11.2', '1.11.3']);
      const head = findings(pf).find((f) => f.gate === 'versions' && Array.isArray(f.data?.pending) && f.severity === 'ok');
      assert.deepEqual((head?.data?.pending as string[]).slice(0, 2), ['1.11.2', '1.11.3']);
      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const recorded = (await query(sc, "SELECT version FROM SERVER_CHANGE_LOG WHERE version IN ('1.11.2', '1.11.3')")).map((r) => r.version).sort();
      assert.deepEqual(recorded, ['1.11.2', '1.11.3']);
    });

    if (engine.label === 'PostgreSQL') {
      it('PostgreSQL: an INVALID index blocks with the recovery 1.13.0 documents; none of om-migrate\'s sessions holds a transaction while the migrator builds concurrently', async () => {
        const sc = await scenario(engine.server(), { release: '1.13.0', history: historyOf('1.12.1') });
        await seedCatalogue(sc.om);
        const app = await connect(sc.om.appSpec);
        try {
          // A unique index built concurrently over duplicates fails and leaves its catalog entry INVALID, as an interrupted build does.
          await app.knex.raw("CREATE TABLE om_invalid_probe (fqnhash VARCHAR(64))");
          await app.knex.raw("INSERT INTO om_invalid_probe VALUES ('a'), ('a')");
          await assert.rejects(app.knex.raw('CREATE UNIQUE INDEX CONCURRENTLY idx_probe_fqnhash_pattern ON om_invalid_probe (fqnhash)'));
        } finally {
          await app.close();
        }
        const pf = await runCli(sc, ['preflight', '--json']);
        const block = findings(pf).find((f) => f.gate === 'invalid-indexes');
        assert.equal(block?.severity, 'block');
        assert.match(block!.summary, /INVALID index\(es\) .*idx_probe_fqnhash_pattern on om_invalid_probe/);
        assert.match(block!.fix!, /DROP INDEX CONCURRENTLY IF EXISTS "idx_probe_fqnhash_pattern"; DELETE FROM server_migration_sql_logs WHERE sqlstatement LIKE '%idx\\_probe\\_fqnhash\\_pattern%'/);
        const app2 = await connect(sc.om.appSpec);
        try {
          for (const sql of block!.data!.recovery as string[]) await app2.knex.raw(sql);
        } finally {
          await app2.close();
        }

        // The migrator builds its index CONCURRENTLY: it would wait for ever on a transaction om-migrate kept open.
        const seen: string[] = [];
        const run = startCli(sc, ['up', '--json'], { OM_STANDIN_SLEEP_MS: '300' });
        const watcher = await connect(sc.server.admin);
        try {
          while (run.child.exitCode === null && run.child.signalCode === null) {
            const rows = await watcher.knex.raw(`SELECT application_name AS app, state FROM pg_stat_activity
              WHERE datname = ? AND application_name LIKE 'om-migrate %' AND state LIKE 'idle in transaction%'`, [sc.om.name]);
            for (const r of (rows as unknown as { rows: Array<{ app: string; state: string }> }).rows) seen.push(`${r.app}: ${r.state}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        } finally {
          await watcher.close();
        }
        const up = await run.done;
        assert.equal(up.code, 0, up.stdout + up.stderr);
        assert.deepEqual(seen, [], 'no om-migrate session sat in a transaction');
        assert.equal(await omVersion(sc), '1.13.0');
        const valid = await query(sc, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_om_standin_1_13_0_note_pattern'::regclass");
        assert.deepEqual(valid.map((r) => r.indisvalid), [true]);
      });

      it('PostgreSQL: a concurrent build interrupted under --force (the migrator says success) is a failure after the migrator, with the recovery', async () => {
        const sc = await scenario(engine.server(), { release: '1.13.0', history: historyOf('1.12.1') });
        await seedCatalogue(sc.om);
        const up = await runCli(sc, ['up', '--json', '--om-migrator-args=--force'], { OM_STANDIN_INTERRUPT_CONCURRENT_INDEX: '1' });
        assert.equal(up.code, 8, up.stdout + up.stderr);
        assert.match(up.json.error.message, /the migration left INVALID index\(es\): idx_om_standin_1_13_0_note_pattern on om_standin_1_13_0/);
        assert.match(up.json.error.hint, /DROP INDEX CONCURRENTLY IF EXISTS "idx_om_standin_1_13_0_note_pattern"; DELETE FROM server_migration_sql_logs/);
        assert.ok(up.json.error.details.progress.steps.some((st: { name: string; status: string }) => st.name === 'openmetadata/server-migrate' && st.status === 'done'),
          'the migrator itself reported success');
        const invalid = await query(sc, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_om_standin_1_13_0_note_pattern'::regclass");
        assert.deepEqual(invalid.map((r) => r.indisvalid), [false]);
      });
    }
  });
}
