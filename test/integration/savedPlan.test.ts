import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import { backupFiles, ledgerRows, parameterSnapshot, runCli, upTestServers } from '../helpers/upHarness.js';
import { insertVersions } from '../fixtures/openmetadata/serverChangeLog.js';
import type { UpScenario } from '../fixtures/upScenario.js';

/**
 * Issue 23: `preflight --dry-run --out FILE` saves the plan; `up --plan FILE` executes exactly that plan — its backups
 * (directory and names), its parameter changes (values), its steps and their time limits — and refuses with exit 4,
 * before anything changes, a plan the databases no longer match (a row or a parameter moved since) or a file that was
 * edited. The file is 0600, never written through a symbolic link, and holds no password.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function planDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'omm-plan-'));
  dirs.push(dir);
  return dir;
}

async function savePlan(sc: UpScenario, file: string, extra: string[] = []): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dry = await runCli(sc, ['preflight', '--dry-run', '--json', '--out', file, ...extra]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.equal(dry.json.result.planFile, file);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** What a refused run must leave: no backup, the parameters, the ledger and the versions as they were. */
async function untouched(sc: UpScenario): Promise<unknown> {
  return { backups: backupFiles(sc), params: await parameterSnapshot(sc), ledger: (await ledgerRows(sc))?.length ?? 0 };
}

async function journalOf(sc: UpScenario, runId: string) {
  const admin = await connect(sc.server.admin);
  try {
    return (await (await admin.existingOwnJournal())?.ofRun(runId)) ?? [];
  } finally {
    await admin.close();
  }
}

for (const engine of engines) {
  describe(`saved plans: ${engine.label}`, () => {
    it('up --plan runs exactly the saved plan: its backups, parameter values, steps and time limits; the file is 0600 and holds no password', async () => {
      const sc = await scenario(engine.server());
      const file = join(planDir(), 'upgrade.plan.json');
      const saved = await savePlan(sc, file, ['--step-timeout', '2h']);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const text = readFileSync(file, 'utf8');
      for (const secret of [sc.om.appSpec.password, sc.airflow.appSpec.password, sc.server.admin.password]) {
        if (secret) assert.ok(!text.includes(secret), 'no password in the plan file');
      }
      assert.match(saved.digest, /^sha256:[0-9a-f]{64}$/);
      const plan = saved.plan;
      assert.ok(plan.parameterChanges.length > 0 && plan.backups.length === 2 && plan.steps.length > 0, text);
      assert.ok(plan.steps.every((s: { timeoutMs: number }) => s.timeoutMs === 2 * 3600_000), 'the plan carries --step-timeout');

      // Without --step-timeout now: the plan's limits are the ones that hold.
      const up = await runCli(sc, ['up', '--json', '--plan', file]);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const s = up.json.result;
      assert.equal(s.plan.id, plan.id);
      assert.deepEqual(s.plan, plan, 'the summary\'s plan is the file\'s');
      assert.deepEqual(s.backups.map((b: { target: string; file: string }) => [b.target, b.file]),
        plan.backups.map((b: { target: string; file: string }) => [b.target, b.file]), 'the backups under the plan\'s names');
      for (const b of plan.backups) assert.ok(existsSync(b.file), `${b.file} was written`);
      assert.deepEqual(s.steps.map((x: { name: string; timeoutMs: number }) => [x.name, x.timeoutMs]),
        plan.steps.map((x: { name: string; timeoutMs: number }) => [x.name, x.timeoutMs]), 'the plan\'s steps under its limits');
      const journal = await journalOf(sc, s.runId);
      const key = (c: { parameter: string; scope: string; object: string | null; previous: string | null; next: string }) =>
        `${c.parameter}|${c.scope}|${c.object}|${c.previous}|${c.next}`;
      assert.deepEqual(journal.map(key).sort(), plan.parameterChanges.map(key).sort(), 'the journal holds the plan\'s changes, values and all');
      for (const row of journal) assert.equal(row.status, 'reverted');
      const ledger = (await ledgerRows(sc))!.filter((r) => r.runId === s.runId);
      assert.ok(ledger.every((r) => r.planId === plan.id), 'the ledger records the run under the plan\'s id');

      // Run again: the databases moved on (migrated), so the same file is refused.
      const again = await runCli(sc, ['up', '--json', '--plan', file]);
      assert.equal(again.code, 4, again.stdout + again.stderr);
    });

    it('a stale plan (a row added, a parameter changed after saving) is refused with exit 4, nothing changed', async () => {
      const sc = await scenario(engine.server());
      const dir = planDir();
      const rows = join(dir, 'rows.plan.json');
      const params = join(dir, 'params.plan.json');
      await savePlan(sc, rows);

      await insertVersions(sc.om.root, ['1.9.9']);
      const before = await untouched(sc);
      const stale = await runCli(sc, ['up', '--json', '--plan', rows]);
      assert.equal(stale.code, 4, stale.stdout + stale.stderr);
      assert.equal(stale.json.error.code, 'BLOCKED');
      assert.match(stale.json.error.message, /no longer match/);
      assert.match(stale.json.error.hint, /re-run om-migrate preflight --dry-run --out/i);
      assert.deepEqual(await untouched(sc), before, 'no backup, no parameter, no ledger row');

      // A parameter the plan raises, changed since (the plan's "before" value is no longer the server's).
      await savePlan(sc, params);
      const admin = await connect(sc.server.admin);
      try {
        const old = sc.server.engine === 'mysql' ? String((await admin.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS v') as any)[0][0].v) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
        if (sc.server.engine === 'mysql') await admin.knex.raw(`SET GLOBAL sort_buffer_size = ${Number(old) + 8192}`);
        else await admin.knex.raw(`ALTER DATABASE "${sc.om.name}" SET work_mem = '2MB'`);
        try {
          const moved = await untouched(sc);
          const refused = await runCli(sc, ['up', '--json', '--plan', params]);
          assert.equal(refused.code, 4, refused.stdout + refused.stderr);
          assert.match(refused.json.error.message, /no longer match.*(sort_buffer_size|work_mem)/);
          assert.deepEqual(await untouched(sc), moved, 'nothing raised, nothing backed up');
        } finally {
          if (sc.server.engine === 'mysql') await admin.knex.raw(`SET GLOBAL sort_buffer_size = ${Number(old)}`);
          else await admin.knex.raw(`ALTER DATABASE "${sc.om.name}" RESET work_mem`);
        }
      } finally {
        await admin.close();
      }
    });

    it('an edited plan (one byte) is refused with exit 4, nothing changed; --out never writes through a symbolic link', async () => {
      const sc = await scenario(engine.server());
      const dir = planDir();
      const file = join(dir, 'edited.plan.json');
      const saved = await savePlan(sc, file);
      const text = readFileSync(file, 'utf8');
      const limit = String(saved.plan.steps[0].timeoutMs);
      writeFileSync(file, text.replace(`"timeoutMs": ${limit}`, `"timeoutMs": ${limit.slice(0, -1)}1`), { mode: 0o600 });
      assert.notEqual(readFileSync(file, 'utf8'), text);
      const before = await untouched(sc);
      const edited = await runCli(sc, ['up', '--json', '--plan', file]);
      assert.equal(edited.code, 4, edited.stdout + edited.stderr);
      assert.match(edited.json.error.message, /edited/);
      assert.deepEqual(await untouched(sc), before);

      // An unedited plan for other databases: this run has no Airflow database.
      const other = join(dir, 'other.plan.json');
      await savePlan(sc, other);
      const elsewhereRun = await runCli(sc, ['up', '--json', '--plan', other], { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: '' });
      assert.equal(elsewhereRun.code, 4, elsewhereRun.stdout + elsewhereRun.stderr);
      assert.match(elsewhereRun.json.error.message, /for other databases/);
      assert.deepEqual(await untouched(sc), before);

      const elsewhere = join(dir, 'elsewhere.txt');
      writeFileSync(elsewhere, 'not a plan\n');
      const link = join(dir, 'link.plan.json');
      symlinkSync(elsewhere, link);
      const refused = await runCli(sc, ['preflight', '--dry-run', '--json', '--out', link]);
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.json.error.message, /symbolic link/);
      assert.equal(readFileSync(elsewhere, 'utf8'), 'not a plan\n');
    });
  });
}
