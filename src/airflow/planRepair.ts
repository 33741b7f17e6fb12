import { BEFORE_UUID_PK_REVISION } from '../config/airflowRevisions.js';
import type { AirflowRepairSql, TaskInstanceForeignKey } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { AirflowState } from './detectAirflowState.js';
import { idReferencesAt, knownIdReferenceRevisions } from './idReferences.js';

export type RepairActionId =
  | 'drop-function' | 'truncate-task-instance' | 'restore-primary-key' | 'drop-composite-key' | 'drop-id'
  | 'create-foreign-key' | 'stamp-revision' | 'fix-malformed-ids';

export interface RepairAction {
  id: RepairActionId;
  description: string;
  /** Exactly what runs, in order. */
  sql: string[];
}

export interface RepairPlan {
  state: AirflowState;
  actions: RepairAction[];
  /** All actions in one transaction (PostgreSQL; and the id rewrite everywhere); otherwise one commit per statement. */
  transactional: boolean;
  /** What the database must look like afterwards. */
  expect: 'healthy-before' | 'fully-migrated';
}

export interface RepairOptions {
  /** The OpenMetadata docs' "Option 1": empty task_instance and its dependants. Needs `confirmed` and a verified backup. */
  truncateTaskInstance?: boolean;
  /** apache/airflow#54554: rewrite malformed ids of a completed migration. */
  fixMalformedIds?: boolean;
  /** The operator said --yes. */
  confirmed?: boolean;
  /** The backup gate produced a verified backup in this run. */
  backupVerified?: boolean;
}

/**
 * The actions, in an order where stopping after any one of them leaves a state a second run plans from: each is one
 * atomic statement (or one transaction) and the next run re-detects. The composite primary key is restored before
 * task_instance_composite_key is dropped, because a foreign key re-created by a half-finished step 8 may be using that
 * key's index, and MySQL refuses to drop an index a foreign key needs unless another one (the primary key) covers it.
 */
export function planRepair(state: AirflowState, sql: AirflowRepairSql, options: RepairOptions = {}): RepairPlan {
  if (state.kind === 'unrecognised') {
    throw new OmMigrateError('BLOCKED', `Airflow database not repairable automatically: ${state.summary}`, {
      hint: 'Inspect task_instance and alembic_version by hand; om-migrate repairs only the states d59cbbef95eb leaves.',
      details: { damage: state.damage, revision: state.facts.revision },
    });
  }
  if (state.kind === 'fully-migrated') return planFullyMigrated(state, sql, options);
  if (state.kind === 'healthy-before') {
    throw new OmMigrateError('NOTHING_TO_DO', `Nothing to repair: ${state.summary}`, { details: { revision: state.facts.revision } });
  }
  const f = state.facts;
  const actions: RepairAction[] = [];
  const add = (id: RepairActionId, description: string, statements: string[]) => actions.push({ id, description, sql: statements });
  if (f.leftoverFunction) add('drop-function', 'drop the leftover uuid_generate_v7 function', sql.dropLeftoverFunction());
  if (options.truncateTaskInstance) {
    requireTruncateConsent(options);
    add('truncate-task-instance', `empty task_instance and its dependants (${f.dependantTables.join(', ') || 'none'})`,
      sql.truncateTaskInstance(f.dependantTables));
  }
  if (!f.compositePrimaryKey) {
    add('restore-primary-key', f.idIsPrimaryKey
      ? 'move the primary key from id back to (dag_id, task_id, run_id, map_index)'
      : 'restore the primary key task_instance_pkey on (dag_id, task_id, run_id, map_index)',
    sql.restoreCompositePrimaryKey(f.idIsPrimaryKey));
  }
  let toCreate: TaskInstanceForeignKey[] = f.missingForeignKeys;
  if (f.compositeUniqueKey) {
    add('drop-composite-key', 'drop the unique key task_instance_composite_key', sql.dropCompositeUniqueKey());
    if (sql.compositeKeyDropTakesForeignKeys) toCreate = [...f.missingForeignKeys, ...f.presentForeignKeys];
  }
  if (f.idPresent) add('drop-id', 'drop the column task_instance.id', sql.dropIdColumn());
  for (const fk of toCreate) {
    add('create-foreign-key', `re-create foreign key ${fk.table}.${fk.name}`, sql.createForeignKey(fk));
  }
  if (f.revision !== BEFORE_UUID_PK_REVISION) {
    add('stamp-revision', `set alembic_version from ${f.revision} to ${BEFORE_UUID_PK_REVISION}`, sql.stampRevision(BEFORE_UUID_PK_REVISION));
  }
  return { state, actions, transactional: !state.partialStatePossible, expect: 'healthy-before' };
}

function planFullyMigrated(state: AirflowState, sql: AirflowRepairSql, options: RepairOptions): RepairPlan {
  const { malformedIdCount, revision } = state.facts;
  if (!options.fixMalformedIds || malformedIdCount === 0) {
    const hint = malformedIdCount > 0 ? 'Run repair-airflow --fix-malformed-ids to rewrite them.' : undefined;
    throw new OmMigrateError('NOTHING_TO_DO', `Nothing to repair: ${state.summary}`, { hint, details: { revision, malformedIdCount } });
  }
  const references = idReferencesAt(revision!);
  if (!references) {
    throw new OmMigrateError('BLOCKED', `Will not rewrite task_instance ids at revision ${revision}: which columns refer to them there is not known`, {
      hint: `om-migrate knows the references at ${knownIdReferenceRevisions().join(', ')}; fix the ids by hand or upgrade om-migrate.`,
    });
  }
  const unknown = state.facts.idForeignKeyColumns
    .filter((fk) => !references.some((r) => r.table === fk.table && r.column === fk.column));
  if (unknown.length > 0) {
    throw new OmMigrateError('BLOCKED', `Will not rewrite task_instance ids: ${unknown.map((c) => `${c.table}.${c.column}`).join(', ')} refer to them, `
      + `which revision ${revision} should not have`, { hint: 'Fix the ids by hand, updating every referencing column in the same transaction.' });
  }
  const action: RepairAction = {
    id: 'fix-malformed-ids',
    description: `rewrite ${malformedIdCount} malformed task_instance ids as UUIDv7`
      + (references.length ? ` with ${references.map((r) => `${r.table}.${r.column}`).join(', ')}` : ''),
    sql: sql.rewriteMalformedIds(references),
  };
  return { state, actions: [action], transactional: true, expect: 'fully-migrated' };
}

function requireTruncateConsent(options: RepairOptions): void {
  if (!options.confirmed) {
    throw new OmMigrateError('USAGE', '--truncate-task-instance deletes every task instance and needs --yes',
      { hint: 'Add --yes once a backup exists, or leave the flag out: the repair keeps every row.' });
  }
  if (!options.backupVerified) {
    throw new OmMigrateError('BLOCKED', '--truncate-task-instance needs a verified backup of the Airflow database first',
      { hint: 'Run without --no-backup so the backup gate takes and verifies one.' });
  }
}
