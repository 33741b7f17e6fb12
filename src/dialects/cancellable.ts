/**
 * Runs `work` so that aborting `signal` stops it on the server too: `cancel` ends the statement the pinned connection
 * is running (a repair's ALTER may wait for a table lock for hours), and `check`, called before each statement, keeps
 * the next one from starting. Whatever the cancelled statement then throws, the caller sees the signal's reason first
 * by checking `signal.aborted`.
 */
export async function cancellable<T>(signal: AbortSignal | undefined, cancel: () => Promise<void>,
  work: (check: () => void) => Promise<T>): Promise<T> {
  if (!signal) return work(() => undefined);
  const check = () => {
    if (signal.aborted) throw signal.reason;
  };
  check();
  const onAbort = () => {
    void cancel().catch(() => undefined); // the server may be gone too: then so is the statement
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(check);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
