import { spawn, ChildProcess, StdioOptions } from 'node:child_process';
import type { ToolInvocation } from '../dialects/types.js';

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the tool wrote on stderr: its own explanation of a failure. */
  stderr: string;
  /** Set when the tool could not be started at all (ENOENT, EACCES). */
  spawnError: Error | undefined;
}

export interface RunningTool {
  child: ChildProcess;
  exit: Promise<ToolExit>;
}

const STDERR_KEEP = 8 * 1024;

/** Starts a stock tool with its secret in the environment only; keeps the tail of stderr, never all of it. */
export function startTool(invocation: ToolInvocation, stdio: StdioOptions, env: NodeJS.ProcessEnv = process.env): RunningTool {
  const child = spawn(invocation.path, invocation.args, { env: { ...env, ...invocation.env }, stdio });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  const exit = new Promise<ToolExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      // 'close' does not follow a failed spawn on every Node version.
      if (child.pid === undefined) resolve({ code: null, signal: null, stderr, spawnError });
    });
    child.once('close', (code, signal) => resolve({ code, signal, stderr, spawnError }));
  });
  return { child, exit };
}

/** "exited with status 2: mariadb-dump: Got error: 1045: ..." — the tool's own words, secrets removed. */
export function describeExit(name: string, exit: ToolExit, secret?: string): string {
  const said = lastLines(exit.stderr, 3);
  const clean = secret ? said.split(secret).join('***') : said;
  const how = exit.spawnError ? `could not be started (${exit.spawnError.message})`
    : exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  return `${name} ${how}${clean ? `: ${clean}` : ''}`;
}

export function succeeded(exit: ToolExit): boolean {
  return !exit.spawnError && exit.code === 0 && exit.signal === null;
}

function lastLines(text: string, count: number): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-count).join(' | ');
}
