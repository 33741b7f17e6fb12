/**
 * Breaking changes an operator must know about when an upgrade crosses a release. Our own words, written from the
 * OpenMetadata release notes. `check` names an automated check the versions gate performs, where one exists.
 */
export interface UpgradeNote {
  version: string;
  title: string;
  /** What to look at or do, in one or two sentences. */
  action: string;
  check?: 'airflow-mysql-driver' | 'airflow-3-binlog' | 'sort-memory';
}

export const UPGRADE_NOTES: readonly UpgradeNote[] = [
  {
    version: '1.4.0',
    title: 'The ingestion image moves to Airflow 2.9',
    action: 'The Airflow metadata database is migrated by the ingestion container on its first start; back it up with the OpenMetadata database.',
  },
  {
    version: '1.6.0',
    title: 'Large schema changes on entity tables (including the 1.6.0-collate extension migration)',
    action: 'MySQL needs sort_buffer_size and PostgreSQL work_mem of at least 20 MB, or the migration fails with "Out of sort memory".',
    check: 'sort-memory',
  },
  {
    version: '1.6.2',
    title: 'Ingestion pipelines must be redeployed',
    action: 'After the server is up, redeploy the ingestion pipelines (openmetadata-ops.sh deploy-pipelines, or from the UI) so Airflow runs the new DAG code.',
  },
  {
    version: '1.6.4',
    title: 'The ingestion image talks to MySQL through mysqlclient',
    action: 'DB_SCHEME for Airflow must be mysql+mysqldb (was mysql+pymysql); check the Airflow URL\'s driver.',
    check: 'airflow-mysql-driver',
  },
  {
    version: '1.7.0',
    title: 'The ingestion image moves to Airflow 2.10',
    action: 'The Airflow metadata database is migrated again; the search index must be rebuilt (openmetadata-ops.sh reindex) after the upgrade.',
  },
  {
    version: '1.9.0',
    title: 'Search index mappings change',
    action: 'Rebuild the search index after the migration (openmetadata-ops.sh reindex); the UI shows stale results until then.',
  },
  {
    version: '1.11.0',
    title: 'The ingestion image moves to Airflow 3.1',
    action: 'Airflow migration d59cbbef95eb creates a SQL function: on MySQL with binary logging, log_bin_trust_function_creators must be 1 or the Airflow user needs SUPER. Old Flyway history is copied into SERVER_CHANGE_LOG as 0.0.N rows.',
    check: 'airflow-3-binlog',
  },
];
