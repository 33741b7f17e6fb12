/**
 * Alembic revisions of Airflow's metadata database that matter to an OpenMetadata upgrade, in migration order: the head
 * of every Airflow line OpenMetadata's ingestion image shipped (1.4/1.5 → 2.9.1, 1.6.4 → 2.9.3, 1.7–1.10 → 2.10.5,
 * 1.11–1.12 → 3.1.x, 1.13.0–1.13.3 → 3.2.x, 1.13.4 and 2.0 → 3.3.0) and the revisions around d59cbbef95eb. Source and the
 * evidence for each: docs/facts/airflow.md ("Release → head revision"), from apache/airflow's migrations reference
 * pages (airflow.apache.org/docs/apache-airflow/<version>/migrations-ref.html) and the migration files.
 */
export interface AirflowRevision {
  revision: string;
  /** Position in the migration chain; only the order matters. */
  order: number;
  label: string;
  /** The Airflow release whose chain contains it. */
  chain: string;
  head?: boolean;
}

export const UUID_PK_REVISION = 'd59cbbef95eb';
export const BEFORE_UUID_PK_REVISION = '05234396c6fc';

export const AIRFLOW_REVISIONS: readonly AirflowRevision[] = [
  { revision: '405de8318b3a', order: 1, label: 'head of Airflow 2.7.0', chain: '2.7', head: true },
  { revision: '10b52ebd31f7', order: 2, label: 'head of Airflow 2.8.0', chain: '2.8', head: true },
  { revision: '88344c1d9134', order: 3, label: 'head of Airflow 2.8.1', chain: '2.8', head: true },
  { revision: '1949afb29106', order: 4, label: 'head of Airflow 2.9.0/2.9.1 (OpenMetadata 1.4, 1.5)', chain: '2.9', head: true },
  { revision: '686269002441', order: 5, label: 'head of Airflow 2.9.2/2.9.3 (OpenMetadata 1.6.4)', chain: '2.9', head: true },
  { revision: '22ed7efa9da2', order: 6, label: 'head of Airflow 2.10.0', chain: '2.10', head: true },
  { revision: '5f2621c13b39', order: 10, label: 'head of Airflow 2.10.3–2.10.5 (OpenMetadata 1.7–1.10)', chain: '2.10', head: true },
  { revision: '044f740568ec', order: 11, label: 'the first 3.0.0 migration', chain: '3.0.0' },
  { revision: '3a8972ecb8f9', order: 40, label: '0040', chain: '3.0.0' },
  { revision: '05234396c6fc', order: 41, label: '0041 rename dataset as asset', chain: '3.0.0' },
  { revision: 'd59cbbef95eb', order: 42, label: '0042 add UUID primary key to task_instance', chain: '3.0.0' },
  { revision: '486ac7936b78', order: 43, label: '0043 remove scheduler_lock column', chain: '3.0.0' },
  { revision: '5f57a45b8433', order: 44, label: '0044 drop task_fail', chain: '3.0.0' },
  { revision: '29ce7909c52b', order: 60, label: 'head of Airflow 3.0.0–3.0.2', chain: '3.0.0', head: true },
  { revision: 'fe199e1abd77', order: 70, label: 'head of Airflow 3.0.3–3.0.6', chain: '3.0.3', head: true },
  { revision: 'cc92b33c6709', order: 80, label: 'head of Airflow 3.1.0–3.1.7 (OpenMetadata 1.11)', chain: '3.1.0', head: true },
  { revision: '82dbd68e6171', order: 81, label: 'a 3.1.8 migration', chain: '3.1.8' },
  { revision: '509b94a1042d', order: 82, label: 'head of Airflow 3.1.8', chain: '3.1.8', head: true },
  { revision: '888b59e02a5b', order: 88, label: 'a 3.2.0 migration (fix migration file ORM inconsistencies)', chain: '3.2.0' },
  { revision: '658517c60c7f', order: 89, label: 'a 3.2 development head of the main branch, never released', chain: '3.2.0' },
  { revision: '1d6611b6ab7c', order: 90, label: 'head of Airflow 3.2.x (OpenMetadata 1.13.0–1.13.3)', chain: '3.2.0', head: true },
  { revision: 'a7e6d4c3b2f1', order: 91, label: 'a 3.3.0 migration', chain: '3.3.0' },
  { revision: 'c9d4e5f6a7b8', order: 92, label: 'a 3.3.0 migration (allow_consumer_teams columns)', chain: '3.3.0' },
  { revision: 'c20871fbf23a', order: 93, label: 'a 3.3.0 migration (partition_mapper_info on dag)', chain: '3.3.0' },
  { revision: 'dd5f3a8e2b91', order: 94, label: 'a 3.3.0 migration (rollup_fingerprint)', chain: '3.3.0' },
  { revision: '9ff64e1c35d3', order: 95, label: 'a 3.3.0 migration (dag_version indexes)', chain: '3.3.0' },
  { revision: 'd2f4e1b3c5a7', order: 96, label: 'head of Airflow 3.3.0–3.3.1 (OpenMetadata 1.13.4 and later, 2.0)', chain: '3.3.0', head: true },
];

/**
 * The FAB provider's own chain, recorded in alembic_version_fab (FABDBManager.version_table_name), which `airflow db
 * migrate` runs after Airflow's (apache-airflow-providers-fab's migrations reference, 3.6.1 and 3.7.2).
 */
export const FAB_REVISIONS: readonly AirflowRevision[] = [
  { revision: '6709f7a774b9', order: 1, label: 'FAB provider base (1.4.0: create user and role tables if missing)', chain: 'fab-1.4.0' },
  { revision: '02ca36b0235b', order: 2, label: 'head of the FAB provider 3.5.0 and later (fix fab db inconsistencies)', chain: 'fab-3.5.0', head: true },
];

/** The revision of the FAB provider that drops its foreign keys by their conventional names (apache/airflow#65402). */
export const FAB_KEY_FIX_REVISION = '02ca36b0235b';

/** "02ca36b0235b (head of the FAB provider 3.5.0 and later …)" */
export function describeFabRevision(revision: string): string {
  const known = FAB_REVISIONS.find((r) => r.revision === revision);
  return known ? `${revision} (${known.label})` : `${revision} (not a FAB revision om-migrate knows)`;
}

export function findRevision(revision: string): AirflowRevision | undefined {
  return AIRFLOW_REVISIONS.find((r) => r.revision === revision);
}

/** "05234396c6fc (0041 rename dataset as asset, inside the 3.0.0 chain)" */
export function describeRevision(revision: string): string {
  const known = findRevision(revision);
  if (!known) return `${revision} (not a revision om-migrate knows)`;
  return known.head ? `${revision} (${known.label})` : `${revision} (${known.label}, inside the ${known.chain} chain)`;
}

/** true: before d59cbbef95eb; false: at or past it; undefined: unknown revision. */
export function isBeforeUuidPrimaryKey(revision: string): boolean | undefined {
  const known = findRevision(revision);
  const pivot = findRevision(UUID_PK_REVISION)!;
  return known ? known.order < pivot.order : undefined;
}
