import { OmMigrateError, isOmMigrateError } from '../errors.js';
import { revertParameterChanges, type ParameterRun, type RevertReport } from './index.js';

export interface GuardOptions {
  /** After a signal, how long to let `fn` wind down (kill its child, finish a statement) before reverting anyway. */
  graceMs?: number;
  signals?: NodeJS.Signals[];
  /** Told when a signal arrives, e.g. to print "interrupted, putting parameters back". */
  onSignal?(signal: NodeJS.Signals): void;
  /** Told the revert's outcome (what was put back, what was deferred). */
  onReverted?(report: RevertReport): void;
}

/**
 * Runs `fn` (the part of `up` that changes parameters and runs the steps) and puts this run's parameter changes back
 * afterwards — on success, on failure, and on SIGINT/SIGTERM. A signal aborts `fn`'s AbortSignal; the guard waits up
 * to graceMs for `fn` to stop (a second signal cuts the wait short), reverts, and throws INTERRUPTED. It never exits
 * the process: src/cli/main.ts does, with the code for INTERRUPTED. While the revert runs, further signals are held
 * off, so a second Ctrl-C cannot leave a value half put back.
 *
 * If the revert fails, REVERT_FAILED wins over whatever `fn` did: it is the one that needs the operator's hands.
 */
export async function withParameterGuard<T>(run: ParameterRun, fn: (signal: AbortSignal) => Promise<T>,
  options: GuardOptions = {}): Promise<T> {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const graceMs = options.graceMs ?? 10_000;
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  let stopWaiting: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    stopWaiting = resolve;
  });
  let cutShort: () => void = () => undefined;
  const secondSignal = new Promise<void>((resolve) => {
    cutShort = resolve;
  });
  const handler = (signal: NodeJS.Signals) => {
    if (received !== undefined) {
      cutShort();
      return;
    }
    received = signal;
    options.onSignal?.(signal);
    controller.abort(new OmMigrateError('INTERRUPTED', `interrupted by ${signal}`));
    stopWaiting();
  };
  for (const s of signals) process.on(s, handler);
  try {
    const work = Promise.resolve().then(() => fn(controller.signal));
    const settled = work.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    const first = await Promise.race([settled, interrupted.then(() => undefined)]);
    let outcome = first;
    if (outcome === undefined) {
      // Interrupted: give fn a moment to stop what it runs, so nothing is reverted under a live migration step.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), graceMs);
      });
      outcome = await Promise.race([settled, grace, secondSignal.then(() => undefined)]);
      clearTimeout(timer);
    }
    let report: RevertReport;
    run.closed = true;
    try {
      report = await revertParameterChanges(run);
    } catch (revertError) {
      if (isOmMigrateError(revertError) && outcome && !outcome.ok) {
        const e = outcome.error as { message?: string; code?: string };
        throw new OmMigrateError(revertError.code, revertError.message, {
          hint: revertError.hint, cause: outcome.error,
          details: { ...revertError.details, runFailure: { code: e?.code ?? 'INTERNAL', message: e?.message ?? String(outcome.error) } },
        });
      }
      throw revertError;
    }
    options.onReverted?.(report);
    if (received !== undefined) {
      const stopped = outcome !== undefined;
      throw new OmMigrateError('INTERRUPTED', `interrupted by ${received}; parameter changes were put back`, {
        hint: stopped ? 'Run om-migrate up again: it resumes at the step that did not finish.'
          : `The running step did not stop within ${Math.round(graceMs / 1000)} s; check it has ended before running om-migrate up again.`,
        details: { signal: received, reverted: report.reverted.length, deferred: report.deferred.length },
      });
    }
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.value;
  } finally {
    for (const s of signals) process.off(s, handler);
  }
}
