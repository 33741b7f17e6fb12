import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../../src/cli/exitCodes.js';
import { OPTIONS } from '../../src/config/options.js';

/** The README documents every option and every exit code the code has: a new one without its line fails here. */
const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('README', () => {
  it('names every flag and environment variable of the options table', () => {
    const missing: string[] = [];
    for (const spec of Object.values(OPTIONS)) {
      const flag = spec.flag === 'backup' ? '--no-backup' : `--${spec.flag}`;
      if (!README.includes(`\`${flag}`) && !README.includes(`${flag}\``) && !README.includes(`${flag},`)) missing.push(flag);
      const env = 'env' in spec ? spec.env : undefined;
      if (env && !README.includes(env)) missing.push(env);
    }
    assert.deepEqual(missing, []);
  });

  it('has a row for every exit code', () => {
    const rows = new Set([...README.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
    assert.deepEqual(Object.values(EXIT).filter((code) => !rows.has(code)), []);
  });

  it('has no section left to write', () => {
    assert.doesNotMatch(README, /PLACEHOLDER|TODO/);
  });

  it('starts with the install-and-run command and npm test', () => {
    assert.match(README, /^# om-migrate\n[\s\S]*?```sh\nnpm ci && npm run demo\nnpm test\n```/);
  });
});
