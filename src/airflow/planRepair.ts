import { BEFORE_UUID_PK_REVISION } from './revisions.js';
import type { AirflowRepairSql, TaskInstanceForeignKey } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { AirflowState } from './detectAirflowState.js';
import { idReferencesAt, knownIdReferenceRevisions } from './idReferences.js';
import { orphanTotal, type AirflowIntegrity } from './readIntegrity.js';

export type RepairActionId =
  | 'drop-function' | 'truncate-task-instance' | 'restore-primary-key' | 'drop-composite-key' | 'drop-id'
  | 'create-foreign-key' | 'stamp-revision' | 'fix-malformed-ids' | 'delete-orphans';

/** Actions that change rows, not the shape: a re-plan from the shape alone does not repeat them. */
export const DATA_ACTIONS: readonly RepairActionId[] = ['truncate-task-instance', 'delete-orphans'];

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
  /** The options it was planned with, so that runRepair can re-plan from the live shape before each statement. */
  options: RepairOptions;
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
  /** Delete the orphan rows d59cbbef95eb's foreign keys refuse. Needs `confirmed` and a verified backup. */
  deleteOrphans?: boolean;
  /** Orphans and duplicates as counted before planning; undefined skips both checks (a re-plan of the shape only). */
  integrity?: AirflowIntegrity;
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
  const f = state.facts;
  const actions: RepairAction[] = [];
  const add = (id: RepairActionId, description: string, statements: string[]) => actions.push({ id, description, sql: statements });
  const orphans = options.integrity && !options.truncateTaskInstance ? orphanTotal(options.integrity) : 0;
  if (orphans > 0 && !options.deleteOrphans) {
    throw new OmMigrateError('BLOCKED', `${orphans} rows of task_instance's dependant tables point at no task instance: `
      + `${describeOrphans(options.integrity!)}; the foreign keys ${state.kind === 'healthy-before' ? 'airflow db migrate' : 'the repair'} re-creates refuse them`, {
      hint: `Run repair-airflow --delete-orphans --yes to delete them after a verified backup; list them with: ${Object.values(options.integrity!.orphanQueries).join('; ')}`,
      details: { orphans: options.integrity!.orphans, queries: options.integrity!.orphanQueries },
    });
  }
  // Without the composite primary key nothing stops duplicates; restoring the key over them fails (1062 / 23505).
  const duplicates = options.integrity?.duplicates;
  if (duplicates && duplicates.keys > 0 && !options.truncateTaskInstance) {
    throw new OmMigrateError('BLOCKED', `${duplicates.keys} (dag_id, task_id, run_id, map_index) keys are held by ${duplicates.rows} task_instance rows; `
      + 'the composite key cannot be restored over them, and om-migrate does not choose which row to keep', {
      hint: `Keep one row of each key and delete the others by hand (after a backup); list them with: ${options.integrity!.duplicateQuery}`,
      details: { duplicateKeys: duplicates.keys, duplicateRows: duplicates.rows, query: options.integrity!.duplicateQuery },
    });
  }
  if (state.kind === 'healthy-before' && orphans === 0) {
    throw new OmMigrateError('NOTHING_TO_DO', `Nothing to repair: ${state.summary}`, { details: { revision: state.facts.revision } });
  }
  if (f.leftoverFunction) add('drop-function', 'drop the leftover uuid_generate_v7 function', sql.dropLeftoverFunction());
  if (options.truncateTaskInstance) {
    requireTruncateConsent(options);
    add('truncate-task-instance', `empty task_instance and its dependants (${f.dependantTables.join(', ') || 'none'})`,
      sql.truncateTaskInstance(f.dependantTables));
  }
  if (orphans > 0) {
    requireConsent(options, '--delete-orphans deletes rows', 'delete-orphans');
    for (const [table, n] of Object.entries(options.integrity!.orphans)) {
      if (n > 0) add('delete-orphans', `delete ${n} rows of ${table} that point at no task instance`, sql.deleteOrphans(table));
    }
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
  return { state, actions, transactional: !state.partialStatePossible, expect: 'healthy-before', options };
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
  return { state, actions: [action], transactional: true, expect: 'fully-migrated', options };
}

function describeOrphans(integrity: AirflowIntegrity): string {
  return Object.entries(integrity.orphans).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ');
}

function requireConsent(options: RepairOptions, what: string, flag: string): void {
  if (!options.confirmed) {
    throw new OmMigrateError('USAGE', `${what} and needs --yes`, { hint: `Add --yes once you have looked at them, or leave --${flag} out.` });
  }
  if (!options.backupVerified) {
    throw new OmMigrateError('BLOCKED', `--${flag} needs a verified backup of the Airflow database first`,
      { hint: 'Run without --no-backup so that a backup is taken and verified.' });
  }
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
