import { currentOpenMetadataVersion } from '../openmetadata/versions.js';
import type { ConnectedTarget, VersionFacts } from '../core/Target.js';

export type { VersionFacts } from '../core/Target.js';

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
        recorded: versions ?? [],
        unfinished: versions ? await t.dialect.openmetadata.unfinishedMigrations() : [],
      };
    } else {
      facts.airflow = { revision: await t.dialect.airflow.revision(), fabRevision: await t.dialect.airflow.fabRevision() };
    }
  }
  return facts;
}
