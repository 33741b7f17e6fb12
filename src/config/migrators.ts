/** How `up` runs the real migrators; all with OpenMetadata's and Airflow's own defaults. */
export interface MigratorOptions {
  /** OpenMetadata's home in the server image (bootstrap/openmetadata-ops.sh, conf/, bootstrap/sql/migrations/native/). */
  omHome: string;
  /** A command of the operator's own that migrates the OpenMetadata database, instead of the ops script (run by /bin/sh). */
  omCommand?: string;
  /** An openmetadata.yaml other than <omHome>/conf/openmetadata.yaml: the main class is then called with it. */
  omConfig?: string;
  /** Arguments the operator passes to `migrate` (e.g. --force); om-migrate never adds any itself. */
  omArgs: string[];
  /** The command that migrates the Airflow database (run by /bin/sh). */
  airflowCommand: string;
  /** A command that exits 0 when Airflow has nothing to migrate; undefined when none is known for a custom migrator. */
  airflowCheck: string | undefined;
}

export const DEFAULT_OM_HOME = '/opt/openmetadata';
export const DEFAULT_AIRFLOW_COMMAND = 'airflow db migrate';
/** Once, without waiting (the CLI waits 60 s by default): docs/facts/airflow.md, check-migrations. */
export const DEFAULT_AIRFLOW_CHECK = 'airflow db check-migrations -t 0';
