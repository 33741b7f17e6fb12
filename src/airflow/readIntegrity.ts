import type { Dialect } from '../dialects/types.js';
import type { AirflowState } from './detectAirflowState.js';

/** What d59cbbef95eb would refuse, counted read-only (preflight/airflowIntegrityGate.ts says why each matters). */
export interface AirflowIntegrity {
  /** Orphan rows per dependant table that exists (0 included). */
  orphans: Record<string, number>;
  /** The statement listing each table's orphans, for tables that have some. */
  orphanQueries: Record<string, string>;
  duplicates: { keys: number; rows: number };
  duplicateQuery: string;
}

export function orphanTotal(integrity: AirflowIntegrity): number {
  return Object.values(integrity.orphans).reduce((a, b) => a + b, 0);
}

/**
 * Counted only while d59cbbef95eb is still ahead (healthy-before) or half-applied: afterwards the foreign keys and
 * the unique key enforce both, and the counts would be full scans for nothing.
 */
export async function readIntegrity(dialect: Dialect, state: AirflowState): Promise<AirflowIntegrity | undefined> {
  if (!state.facts.taskInstanceExists || (state.kind !== 'healthy-before' && state.kind !== 'half-applied')) return undefined;
  const orphans: Record<string, number> = {};
  const orphanQueries: Record<string, string> = {};
  for (const table of state.facts.dependantTables) {
    orphans[table] = await dialect.airflow.orphanCount(table);
    if (orphans[table] > 0) orphanQueries[table] = dialect.airflow.orphanListQuery(table);
  }
  return { orphans, orphanQueries, duplicates: await dialect.airflow.duplicateKeyCount(), duplicateQuery: dialect.airflow.duplicateListQuery() };
}
