import { Redactor } from '../process/redact.js';
import type { RunConfig } from './resolveConfig.js';

/** Every secret the configuration holds: what must never appear in output, the ledger or --json. */
export function configuredSecrets(config: Pick<RunConfig, 'openmetadata' | 'airflow' | 'admin' | 'airflowAdmin'>): string[] {
  return [config.openmetadata, config.airflow, config.admin, config.airflowAdmin]
    .flatMap((spec) => (spec?.password ? [spec.password] : []));
}

export function configRedactor(config: Pick<RunConfig, 'openmetadata' | 'airflow' | 'admin' | 'airflowAdmin'>): Redactor {
  return new Redactor(configuredSecrets(config));
}
