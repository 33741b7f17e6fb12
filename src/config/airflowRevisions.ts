/**
 * Alembic revisions of Airflow's metadata database that matter to an OpenMetadata upgrade, in migration order.
 * Source: apache/airflow airflow-core/src/airflow/migrations/versions (see FACTS.md).
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
  { revision: '5f2621c13b39', order: 10, label: 'head of Airflow 2.10.3', chain: '2.10', head: true },
  { revision: '05234396c6fc', order: 41, label: '0041 rename dataset as asset', chain: '3.0.0' },
  { revision: 'd59cbbef95eb', order: 42, label: '0042 add UUID primary key to task_instance', chain: '3.0.0' },
  { revision: '486ac7936b78', order: 43, label: '0043', chain: '3.0.0' },
  { revision: '29ce7909c52b', order: 60, label: 'head of Airflow 3.0.0', chain: '3.0.0', head: true },
  { revision: 'fe199e1abd77', order: 70, label: 'head of Airflow 3.0.3', chain: '3.0.3', head: true },
  { revision: 'cc92b33c6709', order: 80, label: 'head of Airflow 3.1.0', chain: '3.1.0', head: true },
  { revision: '658517c60c7f', order: 90, label: 'head of Airflow 3.2.0', chain: '3.2.0', head: true },
];

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
