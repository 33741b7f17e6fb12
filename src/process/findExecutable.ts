import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { toolEnvironment } from './ToolInvocation.js';

/** The first executable called `name` on PATH, like `command -v`. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
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
 * The first line a tool prints for --version, or undefined if it does not run. It gets a stock tool's minimal
 * environment like every other run of the tool: a wrapper script on PATH must not see the admin URL either.
 */
export function toolVersionText(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', env: toolEnvironment(env, { env: {} }), timeout: 10_000 });
  if (result.status !== 0) return undefined;
  return result.stdout.split('\n')[0].trim();
}
