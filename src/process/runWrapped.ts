import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants } from 'node:os';
import { OmMigrateError } from '../errors.js';
import { findExecutable } from './findExecutable.js';
import { childEnvironment, type Environment } from './childEnv.js';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Why `program` cannot be started (missing, a directory, not executable), or undefined when it can. */
export function wrappedCommandProblem(program: string, env: Environment): string | undefined {
  const path = program.includes('/') ? program : findExecutable(program, env);
  if (!path) return 'not found on PATH';
  try {
    if (statSync(path).isDirectory()) return 'it is a directory';
    accessSync(path, fsConstants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : String(code);
  }
}

/**
 * Runs the command the entrypoint wraps (the OpenMetadata server, the ingestion process) in the foreground. Node cannot
 * replace itself with exec(2), so it stays as a thin parent, like tini: stdio is shared, every termination signal is
 * forwarded, and the child's exit status becomes ours (128 + n when a signal ended it).
 */
export async function runWrapped(command: string[], env: Environment): Promise<number> {
  // The wrapped server runs for months: it keeps its environment, not om-migrate's own settings (the admin URL with
  // root's password would sit in /proc/<pid>/environ and in whatever the server dumps of its environment).
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: childEnvironment(env, 'all-but-own') });
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new OmMigrateError('USAGE', `cannot start ${command[0]}: ${error.message}`,
        { hint: 'Check the wrapped command and PATH.', cause: error })));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 1)));
    });
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
