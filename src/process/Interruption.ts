import { OmMigrateError } from '../errors.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Which Interruption an AbortSignal belongs to, so that whatever holds only the signal (a child) hears a second one too. */
const OWNERS = new WeakMap<AbortSignal, Interruption>();

/**
 * Calls `listener` on a further SIGINT/SIGTERM after the one that aborted `signal` (when the signal is an
 * Interruption's): a child being stopped is then killed at once. Returns the unsubscribe.
 */
export function onCutShort(signal: AbortSignal | undefined, listener: () => void): () => void {
  const owner = signal ? OWNERS.get(signal) : undefined;
  return owner ? owner.onCutShort(listener) : () => undefined;
}

/**
 * The one way a run is told to stop: SIGINT/SIGTERM (Ctrl-C, docker stop), a lost run lock, a step's time limit — each
 * aborts the same AbortSignal with a typed reason, and whatever runs (a dump, a migrator) stops its children. A second
 * signal tells the waiters to stop waiting (cutShort). Nothing here exits the process: the CLI does, with the code of
 * the reason.
 */
export class Interruption {
  private readonly controller = new AbortController();
  private readonly cutShortListeners = new Set<() => void>();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.controller.signal.aborted) {
      for (const listener of [...this.cutShortListeners]) listener();
      return;
    }
    this.abort(new OmMigrateError('INTERRUPTED', `interrupted by ${signal}`, { details: { signal } }));
  };
  private disposed = false;

  constructor(options: { signals?: boolean } = {}) {
    if (options.signals !== false) for (const s of SIGNALS) process.on(s, this.onSignal);
    OWNERS.set(this.controller.signal, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the run was stopped, once it was. */
  get reason(): OmMigrateError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as OmMigrateError) : undefined;
  }

  /** Stops the run (the first reason wins). */
  abort(reason: OmMigrateError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Called on a further signal after the first: stop waiting for a graceful end. */
  onCutShort(listener: () => void): () => void {
    this.cutShortListeners.add(listener);
    return () => this.cutShortListeners.delete(listener);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}

/**
 * Runs `work` with an Interruption of its own (a standalone backup, say): Ctrl-C or SIGTERM stops the dump tool and
 * removes its partial file; the library then throws INTERRUPTED and the CLI exits 130.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interruption = new Interruption();
  try {
    return await work(interruption.signal);
  } finally {
    interruption.dispose();
  }
}
