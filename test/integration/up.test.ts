import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/binlogMariadb.js';
import { AIRFLOW_HEAD } from '../fixtures/upScenario.js';
import {
  airflowRevision, assertBackupsPrivate, assertParametersAsBefore, backupFiles, ledgerByStep, ledgerRows, omVersion,
  parameterSnapshot, runCli, upTestServers,
} from '../helpers/upHarness.js';

/**
 * `up` end to end on real servers with the faithful stand-ins: OpenMetadata's distribution (its ops script and main
 * class as shipped, test/fixtures/openmetadata) and Airflow's migration run by Debian's alembic and drivers
 * (test/fixtures/airflow/python). The MariaDB has binary logging on, as MySQL 8 does by default.
 */
const { binlog, engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`up: ${engine.label}`, () => {
    it('migrates both databases with the shipped migrator, puts every parameter back exactly, keeps private backups and a ledger keyed by its plan', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = await runCli(sc, ['up', '--json']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(run.json.ok, true);
      assert.equal(run.json.command, 'up');
      const s = run.json.result;
      // no secret in what it printed: the application users' passwords, nor the admin URL's
      for (const secret of [sc.om.appSpec.password, sc.airflow.appSpec.password, sc.server.admin.password]) {
        if (secret) assert.ok(!(run.stdout + run.stderr).includes(secret), 'a password appeared in the output');
      }

      // no --to: the distribution's own version; Airflow to the installed Airflow's head
      assert.equal(s.outcome, 'migrated');
      assert.equal(s.targetVersion, '1.11.0');
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      assert.equal(s.before.openmetadata.current, '1.10.2');
      assert.equal(s.after.openmetadata.current, '1.11.0');
      assert.equal(s.before.airflow.revision, '05234396c6fc');
      assert.equal(s.after.airflow.revision, AIRFLOW_HEAD);
      assert.match(s.message, /migrated: OpenMetadata 1\.10\.2 → 1\.11\.0; Airflow 05234396c6fc → 486ac7936b78/);

      // the plan said how the migrator runs, and up ran exactly its steps
      assert.match(s.plan.steps[0].description, /cd .* && \.\/bootstrap\/openmetadata-ops\.sh migrate \(ops-script\)/);
      assert.deepEqual(s.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`),
        ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      for (const step of s.steps) assert.ok(Number.isInteger(step.durationMs) && step.durationMs > 0, `${step.name} has a duration`);
      assert.match(s.steps[0].detail, /1\.10\.2 → 1\.11\.0/);
      assert.deepEqual(s.warnings.filter((w: { data?: { code?: string } }) => w.data?.code === 'search-reindex-needed'), []);

      // parameters: raised for OpenMetadata's migrator (and the trust flag for Airflow's function), then restored
      const raised = s.parameters.map((p: { parameter: string }) => p.parameter).sort();
      assert.deepEqual(raised, sc.server.engine === 'mysql' ? ['log_bin_trust_function_creators', 'sort_buffer_size'] : ['work_mem']);
      for (const p of s.parameters) assert.equal(p.restored, 'reverted', `${p.parameter} restored`);
      await assertParametersAsBefore(sc, params);

      // backups: one per database, verified, private, with a manifest naming this run
      assert.deepEqual(s.backups.map((b: { target: string }) => b.target).sort(), ['airflow', 'openmetadata']);
      for (const b of s.backups) {
        assert.equal(b.reused, false);
        assert.ok(b.bytes > 0);
        assert.match(b.sha256, /^[0-9a-f]{64}$/);
        assert.ok(backupFiles(sc).includes(b.file) && backupFiles(sc).includes(b.manifest));
      }
      assertBackupsPrivate(sc);

      // the ledger: the run and each step, with the plan's id and what each found and reached
      const rows = (await ledgerRows(sc))!;
      assert.deepEqual(ledgerByStep(rows), {
        run: ['done'], 'backup/openmetadata': ['done'], 'backup/airflow': ['done'],
        'openmetadata/server-migrate': ['done'], 'airflow/db-migrate': ['done'], 'verify/row-counts': ['done'],
      });
      for (const r of rows) {
        assert.equal(r.runId, s.runId);
        assert.equal(r.planId, s.plan.id);
        assert.equal(r.targetVersion, '1.11.0');
        assert.ok(r.finishedAt, `${r.step} finished`);
      }
      const omRow = rows.find((r) => r.step === 'openmetadata/server-migrate')!;
      assert.deepEqual(JSON.parse(omRow.stateBefore!).openmetadata, '1.10.2');
      assert.deepEqual(JSON.parse(omRow.stateAfter!).openmetadata, '1.11.0');
      assert.match(omRow.outputTail ?? '', /Migration Run finished for Version: 1\.11\.0/);

      // status: the ledger and nothing left changed, in JSON and as text
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual(status.json.result.unreverted, []);
      const text = await runCli(sc, ['status']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /openmetadata\/server-migrate\s+done/);
      assert.match(text.stdout, /parameters: every change put back/);
    });

    it('a second up with nothing pending runs both migrators, takes no backup, raises nothing, and says so in one line', async () => {
      const sc = await scenario(engine.server());
      assert.equal((await runCli(sc, ['up'])).code, 0);
      const params = await parameterSnapshot(sc);
      const files = backupFiles(sc).sort();
      const again = await runCli(sc, ['up', '--json']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const s = again.json.result;
      assert.equal(s.outcome, 'nothing-pending');
      assert.equal(s.plan.nothingPending, true);
      assert.match(s.message, /^nothing pending/);
      assert.deepEqual(s.backups, []);
      assert.deepEqual(s.parameters, []);
      assert.deepEqual(backupFiles(sc).sort(), files, 'no new dump');
      assert.deepEqual(s.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`),
        ['openmetadata/server-migrate:done', 'airflow/db-migrate:done'], 'the migrators ran: their no-op is the proof');
      assert.match(s.steps[0].detail, /1\.11\.0 → 1\.11\.0/);
      await assertParametersAsBefore(sc, params);
      const text = await runCli(sc, ['up']);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /om-migrate up: nothing pending/);
      assert.doesNotMatch(text.stdout, /done earlier|already-done|interrupted/);
    });

    it('upgrades 1.9.5 → 1.10.2 → 1.11.0 in sequence, each run re-planning from the live database and reaching its distribution\'s version', async () => {
      const sc = await scenario(engine.server(), { release: '1.10.2', history: ['1.6.0', '1.8.0', '1.9.0', '1.9.5'] });
      const first = await runCli(sc, ['up', '--json']);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.equal(await omVersion(sc), '1.10.2');
      assert.equal(first.json.result.targetVersion, '1.10.2');
      await sc.withDistribution('1.11.0');
      const second = await runCli(sc, ['up', '--json']);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      assert.equal(await omVersion(sc), '1.11.0');
      assert.notEqual(second.json.result.plan.id, first.json.result.plan.id, 'another starting state, another plan');
      assert.equal(second.json.result.outcome, 'migrated', 'a later release is never taken for done');
      // Airflow was already at its head: said so, never "486ac7936b78 → 486ac7936b78" (issue 25).
      assert.equal(second.json.result.message, `migrated: OpenMetadata 1.10.2 → 1.11.0; Airflow ${AIRFLOW_HEAD}, nothing to migrate`);
      assert.ok(second.json.result.backups.every((b: { reused: boolean }) => !b.reused), 'a fresh backup of the 1.10.2 database');
      const third = await runCli(sc, ['up', '--json']);
      assert.equal(third.json.result.outcome, 'nothing-pending');
    });

    it('--to beyond what the distribution carries blocks before anything is touched (exit 4)', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = await runCli(sc, ['up', '--to', '99.0.0', '--json']);
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'BLOCKED');
      assert.match(run.json.error.message, /--to 99\.0\.0 is beyond what the distribution at .* can migrate to \(1\.11\.0\)/);
      const preflight = await runCli(sc, ['preflight', '--to', '99.0.0']);
      assert.equal(preflight.code, 4, 'preflight says the same');
      assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
      assert.deepEqual(backupFiles(sc), []);
      await assertParametersAsBefore(sc, params);
      assert.equal(await omVersion(sc), '1.10.2');
    });

    it('a search-index update that fails after the database migrated is its own outcome: migrated, with how to reindex', async () => {
      const nowhere = { ELASTICSEARCH_HOST: '127.0.0.1', ELASTICSEARCH_PORT: String(await freePort()) };
      // As the code reads (index failures logged, exit 0), and as the Helm chart's issue reports it (exit 1).
      for (const fatal of [false, true]) {
        const local = await scenario(engine.server());
        const run = await runCli(local, ['up', '--json'], { ...nowhere, ...(fatal ? { OM_STANDIN_SEARCH_FAILURE: 'fatal' } : {}) });
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.equal(await omVersion(local), '1.11.0');
        const warn = run.json.result.warnings.find((w: { data?: { code?: string } }) => w.data?.code === 'search-reindex-needed');
        assert.ok(warn, JSON.stringify(run.json.result.warnings));
        assert.match(warn.summary, /the database is migrated, but updating the search indexes failed/);
        assert.match(warn.fix, /openmetadata-ops\.sh reindex/);
        assert.doesNotMatch(JSON.stringify(run.json), /migration failed/i);
      }
    });
  });
}

describe('--force across 1.11: MariaDB with binary logging', () => {
  it('is refused with a 1.11.0 distribution, and run with recover after it with 1.11.4', async () => {
    const sc = await scenario(binlog().server);
    const params = await parameterSnapshot(sc);
    const refused = await runCli(sc, ['up', '--om-migrator-args=--force', '--json']);
    assert.equal(refused.code, 4, refused.stdout + refused.stderr);
    assert.match(refused.json.error.message, /--force across 1\.11 \(from 1\.10\.2\) loses roles, policies and bot relationships/);
    assert.match(refused.json.error.hint, /1\.11\.4/);
    assert.equal(await omVersion(sc), '1.10.2');
    await assertParametersAsBefore(sc, params);
    await sc.withDistribution('1.11.4');
    const forced = await runCli(sc, ['up', '--om-migrator-args=--force', '--json']);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal(await omVersion(sc), '1.11.4');
    assert.match(forced.stderr, /openmetadata-ops\.sh recover/, 'recover ran after the forced migration');
  });
});

describe('without the gates\' changes the migration really fails: MariaDB with binary logging', () => {
  it('the stand-ins fail for real when run without the raised parameters (the gates are not for show)', async () => {
    const sc = await scenario(binlog().server);
    const om = spawnSync('./bootstrap/openmetadata-ops.sh', ['migrate'], { cwd: sc.distribution.home, env: sc.env, encoding: 'utf8' });
    assert.equal(om.status, 1);
    assert.match(om.stdout + om.stderr, /Out of sort memory/);
    const af = spawnSync('/bin/sh', ['-c', sc.env.OM_MIGRATE_AIRFLOW_COMMAND!], { env: sc.env, encoding: 'utf8' });
    assert.equal(af.status, 1);
    assert.match(af.stderr, /1305|does not exist/);
  });

  it('--params skip: exit 4 (blocked), nothing changed: no ledger, no backup, globals as they were', async () => {
    const sc = await scenario(binlog().server);
    const params = await parameterSnapshot(sc);
    const run = await runCli(sc, ['up', '--params', 'skip', '--json']);
    assert.equal(run.code, 4, run.stdout + run.stderr);
    assert.equal(run.json.ok, false);
    assert.equal(run.json.error.code, 'BLOCKED');
    assert.match(run.json.error.message, /sort_buffer_size|log_bin_trust_function_creators/);
    assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
    assert.deepEqual(backupFiles(sc), []);
    await assertParametersAsBefore(sc, params);
    assert.equal(await omVersion(sc), '1.10.2');
    assert.equal(await airflowRevision(sc), '05234396c6fc');
  });

  it('no admin URL: exit 4 with the parameter-group hint, nothing changed', async () => {
    const sc = await scenario(binlog().server, { admin: false });
    const params = await parameterSnapshot(sc);
    const run = await runCli(sc, ['up']);
    assert.equal(run.code, 4, run.stdout + run.stderr);
    assert.match(run.stderr, /preflight check\(s\) block the upgrade/);
    assert.match(run.stderr, /fix: .*--admin-url.*parameter group/);
    assert.equal(await ledgerRows(sc), undefined, 'no ledger table');
    assert.deepEqual(backupFiles(sc), []);
    await assertParametersAsBefore(sc, params);
    assert.equal(await omVersion(sc), '1.10.2');
  });
});

describe('no admin URL on PostgreSQL: the application user owns its database', () => {
  it('raises work_mem with ALTER DATABASE as the owner for OpenMetadata\'s migrator only, migrates, and RESETs it', async () => {
    const sc = await scenario(engines[1].server(), { admin: false });
    const params = await parameterSnapshot(sc);
    const run = await runCli(sc, ['up', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const raised = run.json.result.parameters.filter((p: { parameter: string; scope: string }) => p.parameter === 'work_mem');
    assert.deepEqual(raised.map((p: { target: string; scope: string; restored: string }) => `${p.target}:${p.scope}:${p.restored}`),
      ['openmetadata:database:reverted'], 'sort memory is OpenMetadata\'s requirement, not Airflow\'s');
    assert.equal(await omVersion(sc), '1.11.0');
    await assertParametersAsBefore(sc, params);
  });
});

describe('half-applied Airflow: MariaDB with binary logging', () => {
  // The Python stand-in stops after step N (on this server its CREATE FUNCTION needs the trust flag, which the
  // fixture turns on for its own setup and puts back; after step 1 it is the real #49611 state).
  for (const stoppedAfter of [1, 3, 5, 7]) {
    it(`stopped after step ${stoppedAfter}: preflight blocks naming repair-airflow and up; up repairs then migrates`, async () => {
      const sc = await scenario(binlog().server, { airflowStoppedAfter: stoppedAfter });
      const params = await parameterSnapshot(sc);
      assert.equal(params.log_bin_trust_function_creators, '0');

      const preflight = await runCli(sc, ['preflight', '--json']);
      assert.equal(preflight.code, 4, preflight.stdout + preflight.stderr);
      const block = JSON.stringify(preflight.json);
      assert.match(block, /repair-airflow/);
      assert.match(block, /om-migrate up/);

      const run = await runCli(sc, ['up', '--json']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(run.json.result.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`),
        ['airflow/repair-uuid-pk:done', 'openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.equal(await airflowRevision(sc), AIRFLOW_HEAD);
      assert.equal(await omVersion(sc), '1.11.0');
      await assertParametersAsBefore(sc, params);
      const after = await runCli(sc, ['preflight', '--json']);
      assert.doesNotMatch(JSON.stringify(after.json.result.findings?.filter((f: { severity: string }) => f.severity === 'block') ?? []), /airflow-state/);
    });
  }
});
