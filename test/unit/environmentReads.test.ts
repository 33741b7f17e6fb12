import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Configuration is read in one place (issue 23, point 5): src/config/resolveConfig.ts and the CLI read process.env;
 * everything below them is handed the environment. PENDING lists the files that still read it (defaults of
 * `env = process.env`, children's environments built from it): it may only shrink — a file fixed must leave the list.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const ALLOWED = new Set(['src/config/resolveConfig.ts']);
const ALLOWED_DIRS = ['src/cli/'];

/** Still to be given the environment explicitly (left by issue 23's helper; see the report). */
const PENDING = new Set([
  'src/dialects/mysql/MysqlDumpTool.ts',
  'src/dialects/postgres/PostgresDumpTool.ts',
  'src/dialects/postgres/pgToolDiscovery.ts',
  'src/process/runWrapped.ts',
  'src/process/findExecutable.ts',
  'src/openmetadata/migratorCommand.ts',
  'src/plan/readPlanInput.ts',
  'src/plan/airflowDriverProbe.ts',
  'src/steps/runMigrator.ts',
  'src/backup/runBackup.ts',
  'src/backup/compression.ts',
  'src/backup/verifyBackup.ts',
  'src/backup/restoreBackup.ts',
  'preflight/migratorStartGate.ts',
  'preflight/backupReadinessGate.ts',
  'preflight/restoreOnFailureGate.ts',
]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The code without its comments: a comment that shows `process.env` in an example reads nothing. */
export function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const READS = /\bprocess\.env\b/;

describe('environment reads', () => {
  const readers = ['src', 'preflight', 'migrations'].flatMap((d) => sources(join(ROOT, d)))
    .filter((file) => READS.test(withoutComments(readFileSync(file, 'utf8'))))
    .map((file) => relative(ROOT, file));

  it('only the configuration resolver and the CLI read process.env (and the files not yet converted)', () => {
    const outside = readers.filter((f) => !ALLOWED.has(f) && !ALLOWED_DIRS.some((d) => f.startsWith(d)) && !PENDING.has(f));
    assert.deepEqual(outside, [], 'hand these the environment (config, or an env parameter) instead of reading process.env');
  });

  it('the pending list only shrinks: a file that no longer reads process.env leaves it', () => {
    assert.deepEqual([...PENDING].filter((f) => !readers.includes(f)), []);
  });

  it('does not count comments', () => {
    assert.equal(READS.test(withoutComments('/** e.g. resolveConfig({}, process.env) */\n// process.env.X\nconst a = 1;\n')), false);
    assert.equal(READS.test(withoutComments("const url = 'http://x'; const e = process.env;\n")), true);
  });
});
