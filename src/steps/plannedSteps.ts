import semver from 'semver';
import type { RunConfig } from '../config/resolveConfig.js';
import type { VersionFacts } from '../targets/readVersions.js';

export interface PlannedStep {
  /** The Umzug migration name, e.g. "openmetadata/server-migrate". */
  name: string;
  description: string;
}

export interface StepInputs {
  config: RunConfig;
  versions: VersionFacts;
  /** The Airflow state check found the half-applied d59cbbef95eb state. */
  airflowNeedsRepair: boolean;
  fixStaleRuns: boolean;
}

/** The steps `up` runs, in order. `preflight --dry-run` prints the same list. */
export function plannedSteps({ config, versions, airflowNeedsRepair, fixStaleRuns }: StepInputs): PlannedStep[] {
  const steps: PlannedStep[] = [];
  if (versions.airflow && airflowNeedsRepair) {
    steps.push({ name: 'airflow/repair-uuid-pk', description: 'bring task_instance back to revision 05234396c6fc (half-applied d59cbbef95eb)' });
  }
  const om = versions.openmetadata;
  if (om) {
    const target = config.targetVersion;
    if (om.current === undefined || !target || semver.gt(target, om.current)) {
      steps.push({ name: 'openmetadata/server-migrate',
        description: `run OpenMetadata's migrator (${om.current ?? 'fresh'} → ${target ?? 'the release installed'})` });
    }
    if (fixStaleRuns) steps.push({ name: 'openmetadata/stale-pipeline-runs', description: 'mark pipeline runs stuck in "running" as failed' });
  }
  if (versions.airflow) steps.push({ name: 'airflow/db-migrate', description: `run airflow db migrate (from ${versions.airflow.revision ?? 'an empty database'})` });
  return steps;
}
