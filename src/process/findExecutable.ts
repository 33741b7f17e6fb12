import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { childEnvironment, type Environment } from './childEnv.js';

/** The first executable called `name` on PATH, like `command -v`. */
export function findExecutable(name: string, env: Environment): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * What each tool said, per file and environment, for the life of this process: one command asks the same binaries
 * several times (discovery for the dump, then for the restore check, then the plan), and Debian's pg_wrapper is a Perl
 * script. The key holds the file's identity (device, inode, size, change time in nanoseconds), so a binary replaced or
 * rewritten in place is asked again, and the exact environment the tool runs with, which decides what pg_wrapper
 * runs.
 */
const versionCache = new Map<string, string>();

/**
 * The first line a tool prints for --version, or undefined if it does not run. It gets a stock tool's minimal
 * environment like every other run of the tool: a wrapper script on PATH must not see the admin URL either.
 */
export function toolVersionText(path: string, env: Environment): string | undefined {
  const toolEnv = childEnvironment(env, 'tool-basics');
  const key = fileIdentity(path) + JSON.stringify(toolEnv);
  const known = versionCache.get(key);
  if (known !== undefined) return known;
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', env: toolEnv, timeout: 10_000 });
  const text = result.status === 0 ? result.stdout.split('\n')[0].trim() : undefined;
  // A failure is not remembered: it may be passing (a timeout on a loaded machine).
  if (text !== undefined) versionCache.set(key, text);
  return text;
}

function fileIdentity(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${path}\0${s.dev}:${s.ino}:${s.size}:${s.ctimeNs}\0`;
  } catch {
    return `${path}\0missing\0`;
  }
}
