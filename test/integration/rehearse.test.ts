import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../../src/dialects/connect.js';
import { rehearsalCopyName as copyNameFor, rehearsalCopyPrefix as copyPrefixFor } from '../../src/rehearsal/copySpec.js';
import { seedEntities } from '../fixtures/openmetadata/entities.js';
import { AIRFLOW_HEAD, type UpScenario } from '../fixtures/upScenario.js';
import {
  airflowRevision, assertParametersAsBefore, killHard, ledgerRows, omVersion, parameterSnapshot, runCli, startCli, upTestServers, waitFor,
} from '../helpers/upHarness.js';
import { startBinlogMariadb } from '../helpers/binlogMariadb.js';
import { startEmbeddedPostgres } from '../helpers/embeddedPostgres.js';
import type { TestServer } from '../helpers/servers.js';

/**
 * `om-migrate rehearse` and up's row-count comparison, end to end on both engines (a throw-away MariaDB with binary
 * logging, and the local PostgreSQL) with the faithful stand-ins
 * (OpenMetadata's distribution, Airflow's migration under Debian's alembic): the copy is made, migrated and dropped,
 * the real databases stay as they were, and up shows (or requires) the rehearsal.
 */
// The MariaDB is the harness's throw-away one with binary logging (as MySQL 8 runs): the shared server's GET_LOCK
// names (Airflow's migration lock among them) are server-wide, and other suites' migrations would block this one's.
const servers = upTestServers();

async function scenario(server: TestServer): Promise<UpScenario> {
  const sc = await servers.scenario(server);
  await seedEntities(sc.om, 20);
  return sc;
}

/** The rehearsal copies of this scenario's databases that exist on the server now (or on `on`), kept ones too. */
async function copiesOf(sc: UpScenario, on: TestServer = sc.server): Promise<string[]> {
  const admin = await connect(on.admin);
  try {
    const names: string[] = [];
    for (const spec of [sc.om.appSpec, sc.airflow.appSpec]) {
      for (const kept of [false, true]) names.push(...await admin.scratch.list(copyPrefixFor(spec, { kept })));
    }
    return names;
  } finally {
    await admin.close();
  }
}

for (const engine of servers.engines) {
  describe(`rehearse: ${engine.label}`, () => {
    it('is required by --require-rehearsal; reports each step and its time, drops the copy, leaves the real databases; up then shows it', async (t) => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);

      const blocked = await runCli(sc, ['up', '--require-rehearsal', '--json']);
      assert.equal(blocked.code, 4, blocked.stdout + blocked.stderr);
      assert.match(blocked.json.error.message, /no rehearsal of this plan/);
      const warned = await runCli(sc, ['preflight']);
      assert.match(warned.stdout, /no rehearsal of this plan/);

      const run = await runCli(sc, ['rehearse', '--json']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const r = run.json.result;
      assert.equal(r.outcome, 'passed');
      assert.deepEqual(r.planDiff, [], 'the copies ran the real databases\' plan, step for step');
      // For docs/rehearse.md: what the rehearsal cost next to the backup it was restored from (not asserted).
      t.diagnostic(`overhead ${engine.label}: backup ${r.timings.backupMs} ms, restore ${r.timings.restoreMs} ms, run ${r.timings.runMs} ms, `
        + `total ${r.timings.totalMs} ms; steps ${r.steps.map((x: { name: string; durationMs: number }) => `${x.name} ${x.durationMs} ms`).join(', ')}`);
      assert.deepEqual(r.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`),
        ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      for (const s of r.steps) assert.ok(s.durationMs > 0);
      assert.ok(r.timings.restoreMs > 0 && r.timings.runMs > 0 && r.timings.totalMs >= r.timings.runMs);
      assert.equal(r.copies.length, 2);
      for (const c of r.copies) {
        assert.match(c.copy, /^omm_rehearsal_[0-9a-f]{10}_[0-9a-f]{8}_[a-z0-9_]+$/);
        assert.equal(c.dropped, true);
        assert.equal(c.backupSource, 'taken-now');
      }
      // what changed, on the copy: versions, and the row counts compared (nothing lost)
      assert.match(r.run.message, /OpenMetadata 1\.10\.2 → 1\.11\.0; Airflow 05234396c6fc → 486ac7936b78/);
      assert.deepEqual(r.rowCounts.lost, []);
      assert.ok(r.rowCounts.before.find((t: { role: string }) => t.role === 'openmetadata').tables.some((t: { table: string; rows: number; exact: boolean }) =>
        t.table === 'entity_relationship' && t.rows === 20 && t.exact));
      assert.ok(r.rowCounts.before.find((t: { role: string }) => t.role === 'airflow').tables.some((t: { table: string }) => t.table === 'task_instance'));
      for (const p of r.run.parameters) assert.equal(p.restored, 'reverted');
      // the report beside the backups, private
      assert.ok(r.report.startsWith(sc.backupDir) && existsSync(r.report));
      assert.equal(statSync(r.report).mode & 0o777, 0o600);
      assert.match(readFileSync(r.report, 'utf8'), /# om-migrate rehearsal: PASSED[\s\S]*\| openmetadata\/server-migrate \| done \|/);

      assert.deepEqual(await copiesOf(sc), [], 'no copy left');
      assert.equal(await omVersion(sc), '1.10.2', 'the real database is untouched');
      assert.equal(await airflowRevision(sc), '05234396c6fc');
      await assertParametersAsBefore(sc, params);

      // the next time: the backup just taken is reused (it shows the present state)
      const preflight = await runCli(sc, ['preflight']);
      assert.match(preflight.stdout, /rehearsed [\d.]+ (s|min \d+ s) ago: [\d.]+ (s|min \d+ s), passed/);
      const up = await runCli(sc, ['up', '--require-rehearsal', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.equal(up.json.result.rehearsal.severity, 'ok');
      assert.match(up.json.result.rehearsal.summary, /^rehearsed .* ago: .*, passed$/);
      assert.deepEqual(up.json.result.rowCounts.lost, []);
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      const status = await runCli(sc, ['status']);
      assert.match(status.stdout, /rehearsal: passed .*, plan [0-9a-f]{16}, .*; report /);
      assert.match(status.stdout, /row counts \(run [0-9a-f]{8}, .*\): \d+ tables compared, 0 changed/);
    });

    it('a failing step is reported with its output and the copy dropped; a killed rehearsal\'s copy is removed by the next one', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const failed = await runCli(sc, ['rehearse', '--json'], { OM_STANDIN_FAIL_AT: '1.11.0' });
      assert.equal(failed.code, 8, failed.stdout + failed.stderr);
      const f = failed.json.result;
      assert.equal(f.outcome, 'failed');
      assert.equal(f.failure.code, 'STEP_FAILED');
      assert.match(f.failure.details.outputTail, /OM_STANDIN_FAIL_AT=1\.11\.0/);
      assert.match(readFileSync(f.report, 'utf8'), /# om-migrate rehearsal: FAILED[\s\S]*OM_STANDIN_FAIL_AT/);
      assert.deepEqual(await copiesOf(sc), []);
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.2');
      const row = (await ledgerRows(sc))!.find((e) => e.step === 'rehearse')!;
      assert.equal(row.status, 'failed');

      // killed while the copy exists: it stays behind, and the next rehearsal removes it first
      const live = startCli(sc, ['rehearse', '--json'], { OM_STANDIN_SLEEP_MS: '3000' });
      const left = await waitFor('the copy', async () => {
        const names = await copiesOf(sc);
        return names.length > 0 ? names : undefined;
      });
      killHard(live);
      await live.done;
      const next = await runCli(sc, ['rehearse', '--json']);
      assert.equal(next.code, 0, next.stdout + next.stderr);
      for (const name of left) assert.ok(next.json.result.removedLeftovers.includes(name), `${name} removed`);
      assert.deepEqual(await copiesOf(sc), []);
      await assertParametersAsBefore(sc, params);

      // SIGTERM while OpenMetadata's migrator runs on the copy: stopped, parameters put back, the copy dropped
      const stopped = startCli(sc, ['rehearse', '--json'], { OM_STANDIN_SLEEP_MS: '3000' });
      await waitFor('the migrator on the copy', () => /Migration Run started/.test(stopped.output().stderr));
      // the real databases' run lock is held meanwhile: up cannot start
      const refused = await runCli(sc, ['up', '--json']);
      assert.equal(refused.code, 5, refused.stdout + refused.stderr);
      assert.match(refused.json.error.message, /rehearse/);
      stopped.child.kill('SIGTERM');
      const end = await stopped.done;
      assert.equal(end.code, 130, end.stdout + end.stderr);
      assert.equal(end.json.result.outcome, 'interrupted');
      assert.deepEqual(await copiesOf(sc), []);
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.2');
    });

    it('--keep-copy leaves the migrated copies, named as kept; a later rehearsal removes only dead copies of its own databases (issue 21, point 9)', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const kept = await runCli(sc, ['rehearse', '--keep-copy', '--json']);
      assert.equal(kept.code, 0, kept.stdout + kept.stderr);
      const copies: Array<{ role: string; copy: string; dropped: boolean }> = kept.json.result.copies;
      assert.equal(copies.length, 2);
      for (const c of copies) {
        assert.equal(c.dropped, false, `${c.copy} reported as kept`);
        assert.match(c.copy, /^omm_rehearsal_kept_/);
      }
      assert.deepEqual((await copiesOf(sc)).sort(), copies.map((c) => c.copy).sort(), 'the copies are still there');
      // they hold the migrated state; the real databases do not
      const omCopy = copies.find((c) => c.role === 'openmetadata')!.copy;
      const copyScenario = { ...sc, om: { ...sc.om, rootSpec: { ...sc.om.rootSpec, database: omCopy } } } as UpScenario;
      assert.equal(await omVersion(copyScenario), '1.11.0');
      assert.equal(await omVersion(sc), '1.10.2');
      await assertParametersAsBefore(sc, params);

      // Beside them: a dead rehearsal's copy of this very database (to go), and a live rehearsal's copy of a database
      // whose name folds to the same (upper case: another PostgreSQL database; on MariaDB the same name on another
      // server) — not this run's to touch.
      const dead = copyNameFor(sc.om.appSpec, 'dead0000-0000-4000-8000-000000000000');
      const other = sc.server.engine === 'postgres' ? { ...sc.om.appSpec, database: sc.om.name.toUpperCase() } : { ...sc.om.appSpec, port: sc.om.appSpec.port + 1 };
      const foreign = copyNameFor(other, 'a11ce000-0000-4000-8000-000000000000');
      const admin = await connect(sc.server.admin);
      try {
        for (const name of [dead, foreign]) await admin.scratch.create(name, await admin.scratch.account());
        const next = await runCli(sc, ['rehearse', '--json']);
        assert.equal(next.code, 0, next.stdout + next.stderr);
        assert.deepEqual(next.json.result.removedLeftovers, [dead]);
        assert.deepEqual((await copiesOf(sc)).sort(), copies.map((c) => c.copy).sort(), 'the kept copies are still there');
        assert.ok((await admin.scratch.list(foreign)).includes(foreign), 'the other database\'s copy is still there');
      } finally {
        for (const name of [foreign, ...copies.map((c) => c.copy)]) await admin.scratch.drop(name).catch(() => undefined);
        await admin.close();
      }
    });

    it('--rehearse-admin-url makes, migrates and drops the copies on another server; the real server gets no copy', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      // A staging server of the same engine: a second throw-away MariaDB with binary logging, or an embedded
      // PostgreSQL 14 (pg_restore 15 restores into it).
      const staging = sc.server.engine === 'mysql' ? await startBinlogMariadb() : await startEmbeddedPostgres(14);
      try {
        const a = staging.server.admin;
        // Its admin is a superuser, so the copies are restored and migrated as the application's own users, which an
        // operator creates there (om-migrate never runs the application's code as a superuser: issue 21, point 3).
        const root = await connect(a);
        try {
          for (const app of [sc.om.appSpec, sc.airflow.appSpec]) {
            if (a.engine === 'mysql') {
              for (const host of ['%', 'localhost']) await root.knex.raw('CREATE USER ?@? IDENTIFIED BY ?', [app.user, host, app.password ?? '']);
            } else {
              await root.knex.raw(`CREATE ROLE "${app.user}" LOGIN PASSWORD '${app.password}'`);
            }
          }
        } finally {
          await root.close();
        }
        const url = `${a.engine === 'mysql' ? 'mysql' : 'postgresql'}://${a.user}${a.password ? `:${encodeURIComponent(a.password)}` : ''}@${a.host}:${a.port}/`;
        const live = startCli(sc, ['rehearse', '--json'], { OM_MIGRATE_REHEARSE_ADMIN_URL: url, OM_STANDIN_SLEEP_MS: '2000' });
        // Every copy that exists while it runs, on either server (each database's copy is made in turn).
        const seen = new Set<string>();
        let finished = false;
        const ended = live.done.finally(() => { finished = true; });
        while (!finished) {
          for (const name of await copiesOf(sc, staging.server)) seen.add(name);
          assert.deepEqual(await copiesOf(sc), [], 'nothing is restored on the real server');
          await sleep(200);
        }
        const run = await ended;
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const r = run.json.result;
        assert.equal(r.outcome, 'passed');
        for (const c of r.copies) {
          assert.ok(seen.has(c.copy), `${c.copy} was made on the staging server (seen: ${[...seen].join(', ')})`);
          assert.match(c.server, new RegExp(`:${staging.port}\\b`), `${c.copy} is reported on the staging server: ${c.server}`);
          assert.equal(c.dropped, true);
        }
        assert.deepEqual(await copiesOf(sc, staging.server), [], 'dropped from the staging server');
        assert.deepEqual(await copiesOf(sc), []);
        assert.equal(await omVersion(sc), '1.10.2');
        await assertParametersAsBefore(sc, params);
      } finally {
        await staging.stop();
      }
    });

    it('up catches a migrator that deletes rows: exit 14 naming the table and the backup, and status shows the comparison', async () => {
      const sc = await scenario(engine.server());
      const up = await runCli(sc, ['up', '--json'], { OM_STANDIN_DELETE_ROWS: 'entity_relationship:5' });
      assert.equal(up.code, 14, up.stdout + up.stderr);
      assert.equal(up.json.error.code, 'ROWS_LOST');
      const progress = up.json.error.details.progress;
      assert.deepEqual(progress.rowCounts.lost.map((c: { role: string; table: string; before: number; after: number; delta: number }) =>
        [c.role, c.table, c.before, c.after, c.delta]), [['openmetadata', 'entity_relationship', 20, 15, -5]]);
      assert.match(up.json.error.message, /ROWS LOST: openmetadata\.entity_relationship 20 → 15 \(−5\)/);
      const omBackup = progress.rowCounts.backups.find((b: { target: string }) => b.target === 'openmetadata');
      assert.ok(up.json.error.hint.includes(omBackup.manifest), 'names the backup to restore');
      const status = await runCli(sc, ['status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /LOST openmetadata\.entity_relationship 20 → 15/);
      assert.ok(status.stdout.includes(`restore from: ${omBackup.manifest}`));
    });
  });
}
