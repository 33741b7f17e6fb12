import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { connect } from '../../src/dialects/connect.js';
import { runCli, upTestServers } from '../helpers/upHarness.js';

/**
 * Issue 13: one plan for `preflight --dry-run` and `up` — what up journaled and ran is what the dry-run printed — and one
 * `--json` envelope for every command, described by schema/envelope.schema.json, which is generated from the TypeScript
 * types (src/api/results.ts) and must match them.
 */
const ROOT = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
  }
  throw new Error('the repository root was not found');
})();
const SCHEMA_FILE = join(ROOT, 'schema', 'envelope.schema.json');

/** The schema as `npm run schema` writes it (the same generator settings). */
export function generateEnvelopeSchema(): unknown {
  return createGenerator({
    path: join(ROOT, 'src', 'api', 'results.ts'), tsconfig: join(ROOT, 'tsconfig.json'), type: 'JsonEnvelope',
    skipTypeCheck: true, additionalProperties: true,
  }).createSchema('JsonEnvelope');
}

const ajv = new Ajv({ strict: false, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

function assertEnvelope(document: unknown, what: string): void {
  const ok = validate(document);
  assert.ok(ok, `${what} does not match schema/envelope.schema.json: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(document).slice(0, 2000)}`);
}

describe('the --json envelope schema', () => {
  it('schema/envelope.schema.json is what the TypeScript types generate (run npm run schema after changing them)', () => {
    assert.deepEqual(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), generateEnvelopeSchema());
  });
  it('rejects a document that is not an envelope', () => {
    assert.equal(validate({ ok: true, exitCode: 0, command: 'status' }), false);
    assert.equal(validate({ ok: false, exitCode: 2, command: 'up', error: { message: 'no code' } }), false);
  });
});

const { engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`one plan for dry-run and up: ${engine.label}`, () => {
    it('up journals, raises and runs exactly what preflight --dry-run printed; every command\'s --json matches the schema', async () => {
      const sc = await scenario(engine.server());
      const dry = await runCli(sc, ['preflight', '--dry-run', '--json']);
      assertEnvelope(dry.json, 'preflight --dry-run --json');
      const plan = dry.json.result.plan;
      assert.ok(plan, dry.stdout);

      const up = await runCli(sc, ['up', '--json']);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assertEnvelope(up.json, 'up --json');
      const s = up.json.result;
      assert.equal(s.plan.id, plan.id, 'the same plan id from the same state');
      assert.deepEqual(s.plan, { ...plan, backups: s.plan.backups }, 'the same plan, but for the backup files\' timestamps');
      assert.deepEqual(s.backups.map((b: { target: string }) => b.target), plan.backups.map((b: { target: string }) => b.target));
      assert.deepEqual(s.steps.map((x: { name: string }) => x.name), plan.steps.map((x: { name: string }) => x.name));
      const changes = (list: Array<{ target: string; parameter: string; scope: string }>) =>
        list.map((c) => `${c.target}|${c.parameter}|${c.scope}`).sort();
      assert.deepEqual(changes(s.parameters), changes(plan.parameterChanges));
      assert.ok(plan.parameterChanges.length > 0, 'the plan raises something on this server');

      // what the journal holds for this run: the same parameters at the same scopes, and the planned target value
      const admin = await connect(sc.server.admin);
      try {
        const journal = await admin.existingOwnJournal();
        assert.ok(journal, 'admin-made changes are journaled in om-migrate\'s own place');
        const rows = await journal.ofRun(s.runId);
        assert.deepEqual(rows.map((r) => `${r.parameter}|${r.scope}`).sort(),
          plan.parameterChanges.map((c: { parameter: string; scope: string }) => `${c.parameter}|${c.scope}`).sort());
        for (const row of rows) assert.equal(row.status, 'reverted');
      } finally {
        await admin.close();
      }

      for (const args of [['status', '--json'], ['revert-params', '--json'], ['repair-airflow', '--json'], ['backup', '--json'],
        ['up', '--json', '--to', '99.0.0'], ['restore', '--json', '--manifest', '/nonexistent.manifest.json'], ['preflight', '--json', '--bogus']]) {
        const run = await runCli(sc, args);
        assertEnvelope(run.json, args.join(' '));
        assert.equal(run.json.exitCode, run.code, `${args.join(' ')}: the envelope's exit code is the process's`);
      }
    });
  });
}
