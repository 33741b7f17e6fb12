import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * One lock frame (issue 23, point 4): the run lock is taken in exactly one place, withLockedTargets, so that no command
 * that changes something holds it without watching for its loss, reacting to SIGINT/SIGTERM and releasing it.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('one lock frame', () => {
  it('acquireRunLock is called only by src/engine/withRunLock.ts', () => {
    const callers = ['src', 'preflight', 'migrations'].flatMap((d) => sources(join(ROOT, d)))
      .filter((f) => /\bacquireRunLock\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f))
      .filter((f) => f !== 'src/lock/runLock.ts');
    assert.deepEqual(callers, ['src/engine/withRunLock.ts']);
  });
});
