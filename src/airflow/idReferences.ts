import type { IdReference } from '../dialects/types.js';

/**
 * Which columns hold copies of task_instance.id at each revision a database can be at after d59cbbef95eb, from Airflow's
 * migration history: 0060 (7645189f3479) copies ti.id into task_instance_history.task_instance_id, 0061 gives
 * task_instance_note a ti_id, 0063 gives task_reschedule a ti_id; 3.1 adds more (hitl_detail), which are not listed
 * here because they were not checked — a revision missing from this table is refused, never guessed.
 */
const AT_3_0_HEAD: IdReference[] = [
  { table: 'task_instance_note', column: 'ti_id' },
  { table: 'task_reschedule', column: 'ti_id' },
  { table: 'task_instance_history', column: 'task_instance_id' },
];

const ID_REFERENCES: Record<string, IdReference[]> = {
  d59cbbef95eb: [],
  '486ac7936b78': [],
  '29ce7909c52b': AT_3_0_HEAD,
  fe199e1abd77: AT_3_0_HEAD,
};

/** undefined when the revision is not one whose references om-migrate knows. */
export function idReferencesAt(revision: string): IdReference[] | undefined {
  return ID_REFERENCES[revision];
}

export function knownIdReferenceRevisions(): string[] {
  return Object.keys(ID_REFERENCES);
}
