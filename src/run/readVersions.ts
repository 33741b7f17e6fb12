import { currentOpenMetadataVersion } from '../config/versions.js';
import type { ConnectedTarget } from './Gate.js';

export interface VersionFacts {
  /** undefined when there is no OpenMetadata database in this run. */
  openmetadata?: {
    /** Highest version in SERVER_CHANGE_LOG compared numerically; undefined for a fresh install. */
    current: string | undefined;
    tableExists: boolean;
    rowCount: number;
  };
  /** undefined when there is no Airflow database in this run. */
  airflow?: {
    /** alembic_version's row; undefined when the table is missing, null when empty. */
    revision: string | null | undefined;
  };
}

/** Read once per run, before the gates, so every gate judges the same versions. */
export async function readVersions(targets: ConnectedTarget[]): Promise<VersionFacts> {
  const facts: VersionFacts = {};
  for (const t of targets) {
    if (t.role === 'openmetadata') {
      const versions = await t.dialect.openmetadata.changeLogVersions();
      facts.openmetadata = {
        current: versions ? currentOpenMetadataVersion(versions) : undefined,
        tableExists: versions !== undefined,
        rowCount: versions?.length ?? 0,
      };
    } else {
      facts.airflow = { revision: await t.dialect.airflow.revision() };
    }
  }
  return facts;
}
