import type { ConnectedTarget } from '../core/Target.js';
import { readVersions } from '../targets/readVersions.js';

/** What a step found and what it reached, for its ledger row: the OpenMetadata version and the Airflow revision. */
export async function stepState(targets: ConnectedTarget[]): Promise<{ openmetadata?: string | null; airflow?: string | null }> {
  const versions = await readVersions(targets);
  return {
    ...(versions.openmetadata ? { openmetadata: versions.openmetadata.current ?? null } : {}),
    ...(versions.airflow ? { airflow: versions.airflow.revision ?? null } : {}),
  };
}
