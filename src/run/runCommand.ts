import { spawn } from 'node:child_process';
import { OmMigrateError } from '../errors.js';

const TAIL_LINES = 40;

export interface CommandResult {
  exitCode: number;
  tail: string;
}

/**
 * Runs a migrator command through /bin/sh (operators give it as one string, e.g. "airflow db migrate"), streams
 * its output line by line, keeps the last lines for the ledger, and kills the whole process group when aborted.
 * Connection details reach it through `env` only, never through its arguments.
 */
export async function runCommand(command: string, env: NodeJS.ProcessEnv, options: {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  label: string;
}): Promise<CommandResult> {
  const tail: string[] = [];
  const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const keep = (chunk: Buffer, carry: { text: string }) => {
    carry.text += chunk.toString('utf8');
    const lines = carry.text.split('\n');
    carry.text = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onLine?.(line);
    }
  };
  const out = { text: '' };
  const err = { text: '' };
  child.stdout.on('data', (c: Buffer) => keep(c, out));
  child.stderr.on('data', (c: Buffer) => keep(c, err));
  const abort = () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    });
    for (const carry of [out, err]) if (carry.text) tail.push(carry.text);
    return { exitCode, tail: tail.slice(-TAIL_LINES).join('\n') };
  } catch (error) {
    throw new OmMigrateError('STEP_FAILED', `${options.label}: could not start "${command}": ${(error as Error).message}`, {
      hint: 'Check the migrator command (--om-migrator / --airflow-migrator) and PATH.',
      cause: error,
    });
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}
