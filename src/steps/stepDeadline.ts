import { OmMigrateError } from '../errors.js';

/**
 * The signal a step runs under: the run's (SIGINT/SIGTERM, a lost lock), and its own time limit (--step-timeout, else
 * the step's default), whose reason is STEP_FAILED naming the limit.
 */
export function stepDeadline(run: AbortSignal, name: string, timeoutMs: number): { signal: AbortSignal; reason: OmMigrateError; expired(): boolean; dispose(): void } {
  const own = new AbortController();
  const reason = new OmMigrateError('STEP_FAILED', `${name} ran past its time limit of ${describeLimit(timeoutMs)} and was stopped`, {
    hint: 'Find out what it waited for (a lock held by another session, a long statement), then run again; --step-timeout gives it longer.',
    details: { step: name, timeoutMs },
  });
  const timer = setTimeout(() => own.abort(reason), timeoutMs);
  timer.unref();
  return {
    signal: AbortSignal.any([run, own.signal]), reason,
    expired: () => own.signal.aborted,
    dispose: () => clearTimeout(timer),
  };
}

function describeLimit(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
