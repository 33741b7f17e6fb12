import { OmMigrateError, isOmMigrateError } from '../errors.js';
import { Interruption } from '../process/Interruption.js';
import { revertParameterChanges, type ParameterRun, type RevertReport } from './index.js';

/** After a second signal, how long the step's children (killed outright then) get to be gone before the revert. */
const HURRIED_MS = 10_000;

export interface GuardOptions {
  /**
   * What stops the run (signals, a lost lock, a time limit); one of its own, listening to SIGINT/SIGTERM, when absent.
   */
  interruption?: Interruption;
  /** After an interruption, how long to let `fn` wind down (its child stopped and gone) before reverting anyway. */
  graceMs?: number;
  /** Told when the run is interrupted, e.g. to print "interrupted, putting parameters back". */
  onInterrupted?(reason: OmMigrateError): void;
  /** Told the revert's outcome (what was put back, what was deferred). */
  onReverted?(report: RevertReport): void;
}

/**
 * Runs `fn` (the part of `up` that changes parameters and runs the steps) and puts this run's parameter changes back
 * afterwards — on success, on failure, and when interrupted (SIGINT/SIGTERM, the run lock lost). An interruption
 * aborts `fn`'s AbortSignal; the guard waits up to graceMs for `fn` to stop, so that nothing is reverted under a live
 * migrator (a second signal, which kills the migrator outright, shortens the wait), reverts, and throws the interruption's reason. It never exits the
 * process. If the revert fails, REVERT_FAILED wins over whatever `fn` did: it is the one that needs the operator's hands.
 */
export async function withParameterGuard<T>(run: ParameterRun, fn: (signal: AbortSignal) => Promise<T>,
  options: GuardOptions = {}): Promise<T> {
  const graceMs = options.graceMs ?? 30_000;
  const interruption = options.interruption ?? new Interruption();
  let stopWaiting: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    stopWaiting = resolve;
  });
  const onAbort = () => {
    options.onInterrupted?.(interruption.reason!);
    stopWaiting();
  };
  interruption.signal.addEventListener('abort', onAbort, { once: true });
  if (interruption.signal.aborted) onAbort();
  let cutShort: () => void = () => undefined;
  const secondSignal = new Promise<void>((resolve) => {
    cutShort = resolve;
  });
  const stopListening = interruption.onCutShort(cutShort);
  try {
    const work = Promise.resolve().then(() => fn(interruption.signal));
    const settled = work.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    const first = await Promise.race([settled, interrupted.then(() => undefined)]);
    let outcome = first;
    if (outcome === undefined) {
      // Interrupted: give fn a moment to stop what it runs, so nothing is reverted under a live migration step.
      let timer: NodeJS.Timeout | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<undefined>((resolve) => {
        graceTimer = setTimeout(() => resolve(undefined), graceMs);
      });
      // A second signal kills the running step's children at once (spawnChild hears it too): wait a moment more for
      // them to be gone, not the whole grace period.
      const hurried = secondSignal.then(() => new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), HURRIED_MS);
      }));
      outcome = await Promise.race([settled, grace, hurried]);
      clearTimeout(timer);
      clearTimeout(graceTimer);
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
    const reason = interruption.reason;
    if (reason) {
      const stopped = outcome !== undefined;
      const what = reason.code === 'INTERRUPTED' ? `${reason.message}; parameter changes were put back` : `${reason.message}; this run stopped and put its parameters back`;
      throw new OmMigrateError(reason.code, what, {
        hint: stopped ? reason.hint ?? 'Run om-migrate up again: it checks what the stopped run left and carries on.'
          : `The running step did not stop within ${Math.round(graceMs / 1000)} s; check it has ended before running om-migrate up again.`,
        details: { ...reason.details, reverted: report.reverted.length, deferred: report.deferred.length },
      });
    }
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.value;
  } finally {
    stopListening();
    interruption.signal.removeEventListener('abort', onAbort);
    if (!options.interruption) interruption.dispose();
  }
}
