import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * `npm run test:quick`: the unit tests and the integration tests listed in test/quick.txt. A listed file that was
 * renamed or removed would silently leave the tier; a listed file outside test/integration would run twice.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const listed = readFileSync(`${ROOT}test/quick.txt`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

describe('the quick test tier', () => {
  it('lists only integration test files that exist', () => {
    assert.ok(listed.length > 0);
    for (const file of listed) {
      assert.match(file, /^test\/integration\/.*\.test\.ts$/, file);
      assert.ok(existsSync(`${ROOT}${file}`), `${file} exists`);
    }
  });
  it('is what npm run test:quick runs, beside the whole suite', () => {
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts['test:quick'], /test\/quick\.txt/);
    assert.match(scripts['test:quick'], /test\/unit\/\*\.test\.ts/, 'the unit tests from their sources: a removed one never runs from a stale dist');
    assert.match(scripts.test, /find dist\/test -name '\*\.test\.js'/, 'npm test still runs every test');
  });
});
