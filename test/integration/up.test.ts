import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  airflowRevision, assertBackupsPrivate, assertParametersAsBefore, backupFiles, ledgerByStep, ledgerRows, omVersion,
  parameterSnapshot, runCli, upTestServers,
} from '../helpers/upHarness.js';

/**
 * `om-migrate up` end to end on real servers with the stand-in migrators: the binlog MariaDB (MySQL 8's default
 * setup, where d59cbbef95eb really fails without the log_bin_trust gate) and PostgreSQL. Globals are changed only on
 * the throw-away binlog server.
 */
const { binlog, engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`up succeeds: ${engine.label}`, () => {
    it('migrates both databases, puts every parameter back exactly, keeps private backups and a done ledger', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = await runCli(sc, ['up', '--json']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.ok, true);
      const s = run.json.result;
      // no secret in what it printed: the application users' passwords, nor the admin URL's
      for (const secret of [sc.om.appSpec.password, sc.airflow.appSpec.password, sc.server.admin.password]) {
        if (secret) assert.ok(!(run.stdout + run.stderr).includes(secret), 'a password appeared in the output');
      }

      // versions, as read from the databases and as reported
      assert.equal(await omVersion(sc), '1.11.0');
      assert.equal(await airflowRevision(sc), 'd59cbbef95eb');
      assert.equal(s.before.openmetadata.current, '1.10.2');
      assert.equal(s.after.openmetadata.current, '1.11.0');
      assert.equal(s.before.airflow.revision, '05234396c6fc');
      assert.equal(s.after.airflow.revision, 'd59cbbef95eb');

      // steps with durations
      assert.deepEqual(s.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`),
        ['openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      for (const step of s.steps) assert.ok(Number.isInteger(step.durationMs) && step.durationMs > 0, `${step.name} has a duration`);
      assert.match(s.steps[0].detail, /1\.10\.2 → 1\.11\.0/);

      // parameters: raised, and restored
      const raised = s.parameters.map((p: { parameter: string }) => p.parameter).sort();
      assert.deepEqual(raised, sc.server.engine === 'mysql'
        ? ['log_bin_trust_function_creators', 'sort_buffer_size'] : ['work_mem', 'work_mem']);
      for (const p of s.parameters) assert.equal(p.restored, 'reverted', `${p.parameter} restored`);
      await assertParametersAsBefore(sc, params);

      // backups: one per database, verified, private, with a manifest
      assert.deepEqual(s.backups.map((b: { target: string }) => b.target).sort(), ['airflow', 'openmetadata']);
      for (const b of s.backups) {
        assert.equal(b.reused, false);
        assert.ok(b.bytes > 0);
        assert.match(b.sha256, /^[0-9a-f]{64}$/);
        assert.ok(backupFiles(sc).includes(b.file) && backupFiles(sc).includes(b.manifest));
      }
      assertBackupsPrivate(sc);

      // the ledger: every step done, in the run's id
      const rows = (await ledgerRows(sc))!;
      assert.deepEqual(ledgerByStep(rows), {
        'backup/openmetadata': ['done'], 'backup/airflow': ['done'],
        'openmetadata/server-migrate': ['done'], 'airflow/db-migrate': ['done'],
      });
      for (const r of rows) {
        assert.equal(r.runId, s.runId);
        assert.equal(r.targetVersion, '1.11.0');
        assert.ok(r.finishedAt, `${r.step} finished`);
      }
      assert.match(rows.find((r) => r.step === 'openmetadata/server-migrate')!.outputTail ?? '', /applied 1\.11\.0/);

      // status: the ledger and nothing left changed, in JSON and as text
      const status = await runCli(sc, ['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual(status.json.result.unreverted, []);
      const omLedger = status.json.result.databases.find((d: { role: string }) => d.role === 'openmetadata').ledger;
      assert.equal(omLedger.length, 4);
      assert.ok(omLedger.every((e: { status: string }) => e.status === 'done'));
      const text = await runCli(sc, ['status']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /openmetadata\/server-migrate\s+done\s+--to 1\.11\.0/);
      assert.match(text.stdout, /airflow\/db-migrate\s+done/);
      assert.match(text.stdout, /parameters: every change put back/);
    });

    it('the human summary names versions, backups, restored parameters and steps', async () => {
      const sc = await scenario(engine.server());
      const run = await runCli(sc, ['up']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /OpenMetadata\s+1\.10\.2 → 1\.11\.0/);
      assert.match(run.stdout, /Airflow\s+05234396c6fc.* → d59cbbef95eb/);
      assert.match(run.stdout, /backup\s+openmetadata: /);
      assert.match(run.stdout, /parameter\s+.*→ reverted/);
      assert.match(run.stdout, /step\s+openmetadata\/server-migrate: done in \d+\.\d s/);
      // the migrators' own output is streamed (to stderr, so stdout stays the summary)
      assert.match(run.stderr, /applied 1\.11\.0/);
    });
  });
}

describe('without the gates\' changes the migration really fails: MariaDB with binary logging', () => {
  it('the stand-ins fail for real when run without the raised parameters (the gates are not for show)', async () => {
    const sc = await scenario(binlog().server);
    const [om, af] = [sc.env.OM_MIGRATE_OM_COMMAND!, sc.env.OM_MIGRATE_AIRFLOW_COMMAND!];
    const omRun = spawnSync('/bin/sh', ['-c', om], { env: sc.env, encoding: 'utf8' });
    assert.equal(omRun.status, 1);
    assert.match(omRun.stderr, /Out of sort memory/);
    const afRun = spawnSync('/bin/sh', ['-c', af], { env: sc.env, encoding: 'utf8' });
    assert.equal(afRun.status, 1);
    assert.match(afRun.stderr, /1305|does not exist/);
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
  it('raises work_mem with ALTER DATABASE as the owner, migrates, and RESETs it', async () => {
    const sc = await scenario(engines[1].server(), { admin: false });
    const params = await parameterSnapshot(sc);
    const run = await runCli(sc, ['up', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const raised = run.json.result.parameters.filter((p: { parameter: string; scope: string }) => p.parameter === 'work_mem');
    assert.deepEqual(raised.map((p: { scope: string; restored: string }) => `${p.scope}:${p.restored}`), ['database:reverted', 'database:reverted']);
    assert.equal(await omVersion(sc), '1.11.0');
    await assertParametersAsBefore(sc, params);
  });
});

describe('half-applied Airflow: MariaDB with binary logging', () => {
  // The fixture leaves the state a crash after step N leaves; on this server the stand-in's CREATE FUNCTION (step 2)
  // needs the trust flag, so the fixture turns it on for its own setup and puts it back.
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
      const text = await runCli(sc, ['preflight']);
      assert.equal(text.code, 4);
      assert.match(text.stdout + text.stderr, /repair-airflow/);

      const run = await runCli(sc, ['up', '--json']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(run.json.result.steps.map((x: { name: string; status: string }) => `${x.name}:${x.status}`),
        ['airflow/repair-uuid-pk:done', 'openmetadata/server-migrate:done', 'airflow/db-migrate:done']);
      assert.equal(await airflowRevision(sc), 'd59cbbef95eb');
      assert.equal(await omVersion(sc), '1.11.0');
      await assertParametersAsBefore(sc, params);
      const after = await runCli(sc, ['preflight', '--json']);
      assert.doesNotMatch(JSON.stringify(after.json.result.findings?.filter((f: { severity: string }) => f.severity === 'block') ?? []), /airflow-state/);
    });
  }
});
