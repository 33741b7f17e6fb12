import type { ToolInvocation } from '../process/ToolInvocation.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';

/** Runs pg_restore --list and counts its table-of-contents entries, streaming (a TOC can be large). */
export async function listArchive(invocation: ToolInvocation, env: Environment): Promise<{ ok: boolean; entries: number; message: string }> {
  let entries = 0;
  const child = spawnChild({
    argv: invocation.argv, env: childEnvironment(env, 'tool-basics', invocation.env), stdout: 'lines', stderr: 'lines',
    // Comment lines start with ';'; every other line is one entry.
    onLine: (line) => { if (line.trim() !== '' && !line.startsWith(';')) entries += 1; },
  });
  const result = await child.exit;
  invocation.dispose();
  return { ok: succeeded(result), entries, message: succeeded(result) ? '' : describeExit(invocation.display[0], result) };
}
