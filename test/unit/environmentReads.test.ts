import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sources, withoutComments } from '../helpers/sources.js';

/**
 * Configuration is read in one place (issue 23, point 5): only the CLI and the resolver may touch process.env; the
 * resolver keeps the environment it was given in RunConfig.env, and everything below is handed that (no
 * `env = process.env` default, no child's environment made from process.env: test/unit/childEnv.test.ts).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const ALLOWED = new Set(['src/config/resolveConfig.ts']);
const ALLOWED_DIRS = ['src/cli/'];

const READS = /\bprocess\.env\b/;

describe('environment reads', () => {
  const readers = ['src', 'preflight', 'migrations'].flatMap((d) => sources(join(ROOT, d)))
    .filter((file) => READS.test(withoutComments(readFileSync(file, 'utf8'))))
    .map((file) => relative(ROOT, file));

  it('only the configuration resolver and the CLI read process.env', () => {
    const outside = readers.filter((f) => !ALLOWED.has(f) && !ALLOWED_DIRS.some((d) => f.startsWith(d)));
    assert.deepEqual(outside, [], 'hand these the environment (config.env, or an env parameter) instead of reading process.env');
  });

  it('does not count comments', () => {
    assert.equal(READS.test(withoutComments('/** e.g. resolveConfig({}, process.env) */\n// process.env.X\nconst a = 1;\n')), false);
    assert.equal(READS.test(withoutComments("const url = 'http://x'; const e = process.env;\n")), true);
  });
});
