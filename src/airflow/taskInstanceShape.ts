import type { TaskInstanceForeignKey } from '../dialects/types.js';

/**
 * The names revision d59cbbef95eb touches, and what revision 05234396c6fc looks like around task_instance.
 * Source: apache/airflow migrations 0042 (d59cbbef95eb) and the Airflow 2.10 models (docs/facts/airflow.md).
 */
export const TASK_INSTANCE = 'task_instance';
export const TASK_INSTANCE_KEY = ['dag_id', 'task_id', 'run_id', 'map_index'] as const;
export const COMPOSITE_UNIQUE_KEY = 'task_instance_composite_key';
export const ID_COLUMN = 'id';
export const UUID_FUNCTION = 'uuid_generate_v7';

/**
 * The seven foreign keys d59cbbef95eb drops and re-creates: `ti_fk_constraints` in apache/airflow
 * airflow-core/src/airflow/migrations/versions/0042_3_0_0_add_uuid_primary_key_to_task_instance_.py (@000479235772),
 * in its order. task_instance_history and task_map also cascade updates: 0042's create_foreign_keys() re-creates those
 * two with onupdate="CASCADE". The orphan check (preflight/airflowIntegrityGate.ts) covers exactly these tables.
 */
export const TASK_INSTANCE_FOREIGN_KEYS: readonly TaskInstanceForeignKey[] = [
  { table: 'rendered_task_instance_fields', name: 'rtif_ti_fkey', onUpdateCascade: false },
  { table: 'task_fail', name: 'task_fail_ti_fkey', onUpdateCascade: false },
  { table: 'task_instance_history', name: 'task_instance_history_ti_fkey', onUpdateCascade: true },
  { table: 'task_instance_note', name: 'task_instance_note_ti_fkey', onUpdateCascade: false },
  { table: 'task_map', name: 'task_map_task_instance_fkey', onUpdateCascade: true },
  { table: 'task_reschedule', name: 'task_reschedule_ti_fkey', onUpdateCascade: false },
  { table: 'xcom', name: 'xcom_task_instance_fkey', onUpdateCascade: false },
];

export function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i].toLowerCase());
}
