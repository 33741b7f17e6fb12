/**
 * Runs `work` with an AbortSignal fired by Ctrl-C / SIGTERM, so a dump tool is stopped and its partial file removed
 * instead of being left behind; the library then throws INTERRUPTED and the CLI exits 130.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}
