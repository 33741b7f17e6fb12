import type { ToolInvocation } from '../dialects/types.js';
import { describeExit, startTool, succeeded } from './runTool.js';

/** Runs pg_restore --list and counts its table-of-contents entries, streaming (a TOC can be large). */
export async function listArchive(invocation: ToolInvocation, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; entries: number; message: string }> {
  const { child, exit } = startTool(invocation, ['ignore', 'pipe', 'pipe'], env);
  let entries = 0;
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    // Comment lines start with ';'; every other line is one entry.
    entries += lines.filter((l) => l.trim() !== '' && !l.startsWith(';')).length;
  });
  const result = await exit;
  invocation.dispose();
  return { ok: succeeded(result), entries, message: succeeded(result) ? '' : describeExit(invocation.display[0], result) };
}
