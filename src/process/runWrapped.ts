import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OmMigrateError } from '../errors.js';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs the command the entrypoint wraps (the OpenMetadata server, the ingestion process) in the foreground. Node cannot
 * replace itself with exec(2), so it stays as a thin parent, like tini: stdio is shared, every termination signal is
 * forwarded, and the child's exit status becomes ours (128 + n when a signal ended it).
 */
export async function runWrapped(command: string[]): Promise<number> {
  if (command.length === 0) {
    throw new OmMigrateError('USAGE', 'entrypoint needs the command to run after the migration',
      { hint: 'Write it after --, e.g. om-migrate entrypoint -- ./openmetadata-start.sh' });
  }
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
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
