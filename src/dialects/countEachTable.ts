import type { RowCount, RowCountOptions } from './types.js';

/**
 * The policy both engines' row counters share: a table whose estimate is over `exactUpTo` keeps the estimate; any
 * other is counted exactly, and a count the server cut off at its statement timeout (`timedOut`) falls back to the
 * estimate. Only how to count, and how the server says "timed out", differ per engine.
 */
export async function countEachTable(tables: string[], estimates: Map<string, number>, options: RowCountOptions,
  countExactly: (table: string) => Promise<number>, timedOut: (error: unknown) => boolean): Promise<RowCount[]> {
  const result: RowCount[] = [];
  for (const table of tables) {
    const estimate = estimates.get(table) ?? 0;
    if (estimate > options.exactUpTo) {
      result.push({ table, rows: estimate, exact: false, note: `over ${options.exactUpTo} rows: the server's estimate` });
      continue;
    }
    try {
      result.push({ table, rows: await countExactly(table), exact: true });
    } catch (error) {
      if (!timedOut(error)) throw error;
      result.push({ table, rows: estimate, exact: false, note: `count cut off after ${Math.round(options.timeoutMs / 1000)} s: the server's estimate` });
    }
  }
  return result;
}
