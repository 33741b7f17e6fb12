import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backupNameShape, withSequence } from '../../src/backup/backupFileName.js';
import { isOmMigrateError } from '../../src/errors.js';
import { planIdentity, type RunPlan } from '../../src/plan/buildPlan.js';
import { planDiff } from '../../src/plan/planDiff.js';
import { canonicalJson, planFileText, readPlanFile, writePlanFile } from '../../src/plan/savedPlan.js';

const dir = mkdtempSync(join(tmpdir(), 'omm-plan-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function samplePlan(): RunPlan {
  const facts = {
    state: { openmetadata: { version: '1.10.2', changeLogRows: 6 } },
    targetVersion: '1.11.0',
    nothingPending: false,
    databases: [{ role: 'openmetadata' as const, engine: 'postgres', host: '127.0.0.1', port: 5432, database: 'om_db' }],
    steps: [{ name: 'openmetadata/server-migrate', description: 'OpenMetadata 1.10.2 → 1.11.0', timeoutMs: 6 * 3600_000 }],
    parameterChanges: [{
      gate: 'sort-memory', target: 'openmetadata' as const, parameter: 'work_mem' as const, scope: 'database' as const, object: 'om_db',
      previous: null, next: '20MB', atLeastBytes: 20 * 1024 * 1024, description: 'work_mem (not set) → 20MB', sql: [], revertSql: [],
    }],
  };
  return {
    ...facts, ...planIdentity(facts), summary: 'OpenMetadata 1.10.2 → 1.11.0', releasePath: ['1.11.0'], betterTarget: null,
    backups: [{ target: 'openmetadata', file: join(dir, 'om_db-om1.10.2-20261207T101500Z.dump'), compression: 'none', jobs: 1 }],
    onFailure: { restore: false, summary: 'a step that fails: parameters put back', databases: [], lastRehearsalRestoreMs: null },
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isOmMigrateError(error) && error.code === 'BLOCKED', String(error));
    assert.match(error.hint ?? '', /preflight --dry-run --out/);
    return error.message;
  }
  assert.fail('not refused');
}

describe('saved plans', () => {
  it('canonical JSON does not depend on key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } }), canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
  });

  it('round-trips through a 0600 file, and refuses an edited byte, a forged digest over a changed fact, a foreign step', async () => {
    const plan = samplePlan();
    const file = join(dir, 'a.plan.json');
    await writePlanFile(file, plan);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readPlanFile(file), plan);

    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"20MB"', '"4GB"'));
    assert.match(refusal(() => readPlanFile(file)), /edited/);

    const foreign = { ...plan, steps: [{ ...plan.steps[0], name: 'openmetadata/drop-everything' }] };
    writeFileSync(file, planFileText(foreign));
    assert.match(refusal(() => readPlanFile(file)), /steps are not om-migrate's/);

    chmodSync(file, 0o666);
    assert.match(refusal(() => readPlanFile(file)), /writable by/);
  });

  it('a fact changed in the file gives another id and fingerprint than the file claims', () => {
    const plan = samplePlan();
    const changed = { ...plan, parameterChanges: [{ ...plan.parameterChanges[0], next: '4GB' }] };
    assert.equal(planIdentity(changed).id, plan.id, 'the id names the plan (what, where), not the values');
    assert.notEqual(planIdentity(changed).fingerprint, plan.fingerprint, 'the fingerprint covers the values');
  });

  it('planDiff: facts against choices, and a copy\'s own database name is "its database"', () => {
    const real = samplePlan();
    const copy: RunPlan = {
      ...real,
      databases: [{ ...real.databases[0], database: 'omm_rehearsal_om_db_1' }],
      parameterChanges: [{ ...real.parameterChanges[0], object: 'omm_rehearsal_om_db_1' }],
    };
    assert.deepEqual(planDiff(real, copy, { databases: false }), []);
    const longer = { ...real, steps: [{ ...real.steps[0], timeoutMs: 3000 }] };
    assert.deepEqual(planDiff(real, longer).map((d) => [d.what, d.kind]), [['step openmetadata/server-migrate: time limit', 'choice']]);
    const moved = { ...real, state: { openmetadata: { version: '1.10.2', changeLogRows: 7 } } };
    assert.deepEqual(planDiff(real, moved).map((d) => d.kind), ['fact']);
    const restoring = { ...real, onFailure: { ...real.onFailure, restore: true } };
    assert.deepEqual(planDiff(real, restoring).map((d) => [d.what, d.kind]), [['restore on failure', 'fact']]);
  });

  it('a planned backup name takes a sequence after its timestamp, and names compare without their time', () => {
    assert.equal(withSequence('om-om1.10.2-20261207T101500Z.sql.gz', 2), 'om-om1.10.2-20261207T101500Z-2.sql.gz');
    assert.equal(withSequence('om-om1.10.2-20261207T101500Z.dump', 1), 'om-om1.10.2-20261207T101500Z.dump');
    assert.equal(backupNameShape('om-om1.10.2-20261207T101500Z-2.dump.d'), backupNameShape('om-om1.10.2-20250101T000000Z.dump.d'));
  });
});
