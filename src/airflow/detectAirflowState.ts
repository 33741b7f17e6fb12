import type { Engine } from '../config/ConnectionSpec.js';
import { BEFORE_UUID_PK_REVISION, UUID_PK_REVISION, isBeforeUuidPrimaryKey } from './revisions.js';
import type { Dialect, IdReference, TaskInstanceForeignKey } from '../dialects/types.js';
import {
  COMPOSITE_UNIQUE_KEY, ID_COLUMN, TASK_INSTANCE, TASK_INSTANCE_FOREIGN_KEYS, TASK_INSTANCE_KEY, UUID_FUNCTION, sameColumns,
} from './taskInstanceShape.js';

/**
 * - healthy-before: the shape and revision of 05234396c6fc (or earlier); `airflow db migrate` can run.
 * - fully-migrated: d59cbbef95eb applied and stamped; nothing to repair (unless ids are malformed).
 * - half-applied: revision 05234396c6fc or d59cbbef95eb with a schema that does not match it; repair-airflow fixes it.
 * - unrecognised: not an Airflow database, or a mix om-migrate will not guess about.
 */
export type AirflowStateKind = 'healthy-before' | 'fully-migrated' | 'half-applied' | 'unrecognised';

/** What the database looks like around task_instance; every field is a fact read from the server. */
export interface TaskInstanceFacts {
  /** alembic_version's row; undefined when the table is missing, null when it is empty. */
  revision: string | null | undefined;
  taskInstanceExists: boolean;
  idPresent: boolean;
  idNullable: boolean;
  idIsPrimaryKey: boolean;
  compositePrimaryKey: boolean;
  /** Some primary key other than (id) or the composite one: a shape nobody expects. */
  otherPrimaryKey: boolean;
  compositeUniqueKey: boolean;
  /** Foreign keys of the seven whose table exists but which are missing or differ from the original definition. */
  missingForeignKeys: TaskInstanceForeignKey[];
  /** Foreign keys of the seven that are in place as Airflow declares them. */
  presentForeignKeys: TaskInstanceForeignKey[];
  /** Dependant tables that exist (truncation must include them). */
  dependantTables: string[];
  /** A uuid_generate_v7 of Airflow's (MySQL: by name; PostgreSQL: by its exact signature) exists in the schema. */
  uuidFunction: boolean;
  /**
   * That function is proven to be d59cbbef95eb's leftover, so the repair may drop it: on MySQL task_instance.id is
   * there (step 1 ran before step 2 made the function) and the function has Airflow's signature; never on PostgreSQL,
   * where the migration runs in one transaction and its function cannot outlive it. Otherwise it is someone's own,
   * and stays.
   */
  leftoverFunction: boolean;
  /** Columns whose foreign keys point at task_instance.id (later Airflow revisions add them). */
  idForeignKeyColumns: IdReference[];
  /** Only counted when the migration is complete; 0 otherwise. */
  malformedIdCount: number;
}

export interface AirflowState {
  engine: Engine;
  kind: AirflowStateKind;
  facts: TaskInstanceFacts;
  /** Each thing that differs from the shape the revision promises, one short line each; empty when healthy. */
  damage: string[];
  /** One line for a report. */
  summary: string;
  /**
   * false on PostgreSQL: the migration runs in one transaction, so a half-applied state can only come from a
   * manual stamp or hand-made changes.
   */
  partialStatePossible: boolean;
}

/** Read-only: the Airflow state of the connected database, for repair-airflow and the preflight "Airflow state" gate. */
export async function detectAirflowState(dialect: Dialect): Promise<AirflowState> {
  const facts = await readFacts(dialect);
  const state = classify(facts);
  const partialStatePossible = !dialect.capabilities.transactionalDdl;
  if (state.kind === 'fully-migrated') facts.malformedIdCount = await dialect.airflow.malformedIdCount();
  let summary = state.summary;
  if (!partialStatePossible && state.kind === 'healthy-before') {
    summary += '; PostgreSQL runs the migration in one transaction, so no partial state is possible';
  } else if (!partialStatePossible && state.kind === 'half-applied') {
    summary += ' (PostgreSQL cannot leave this by itself: the revision was stamped or the schema changed by hand)';
  }
  if (facts.malformedIdCount > 0) summary += `; ${facts.malformedIdCount} malformed task_instance ids (apache/airflow#54554)`;
  return { engine: dialect.engine, ...state, facts, summary, partialStatePossible };
}

async function readFacts(dialect: Dialect): Promise<TaskInstanceFacts> {
  const { introspect } = dialect;
  const revision = await dialect.airflow.revision();
  const taskInstanceExists = await introspect.tableExists(TASK_INSTANCE);
  const facts: TaskInstanceFacts = {
    revision, taskInstanceExists, idPresent: false, idNullable: false, idIsPrimaryKey: false, compositePrimaryKey: false,
    otherPrimaryKey: false, compositeUniqueKey: false, missingForeignKeys: [], presentForeignKeys: [], dependantTables: [],
    uuidFunction: false, leftoverFunction: false, idForeignKeyColumns: [], malformedIdCount: 0,
  };
  if (!taskInstanceExists) return facts;
  const id = (await introspect.columns(TASK_INSTANCE)).find((c) => c.name.toLowerCase() === ID_COLUMN);
  facts.idPresent = id !== undefined;
  facts.idNullable = id?.nullable ?? false;
  const indexes = await introspect.indexes(TASK_INSTANCE);
  const primary = indexes.find((i) => i.primary);
  facts.idIsPrimaryKey = primary !== undefined && sameColumns(primary.columns, [ID_COLUMN]);
  facts.compositePrimaryKey = primary !== undefined && sameColumns(primary.columns, TASK_INSTANCE_KEY);
  facts.otherPrimaryKey = primary !== undefined && !facts.idIsPrimaryKey && !facts.compositePrimaryKey;
  facts.compositeUniqueKey = indexes.some((i) => i.name === COMPOSITE_UNIQUE_KEY);
  const existing = await introspect.foreignKeysReferencing(TASK_INSTANCE);
  facts.idForeignKeyColumns = existing.filter((fk) => sameColumns(fk.referencedColumns, [ID_COLUMN]))
    .map((fk) => ({ table: fk.table.toLowerCase(), column: fk.columns[0].toLowerCase() }));
  for (const expected of TASK_INSTANCE_FOREIGN_KEYS) {
    if (!(await introspect.tableExists(expected.table))) continue;
    facts.dependantTables.push(expected.table);
    const found = existing.find((fk) => fk.name === expected.name && fk.table.toLowerCase() === expected.table);
    const intact = found !== undefined && sameColumns(found.columns, TASK_INSTANCE_KEY)
      && sameColumns(found.referencedColumns, TASK_INSTANCE_KEY) && found.onDelete === 'CASCADE'
      && (found.onUpdate === 'CASCADE') === expected.onUpdateCascade;
    (intact ? facts.presentForeignKeys : facts.missingForeignKeys).push(expected);
  }
  facts.uuidFunction = await dialect.airflow.leftoverFunctionExists();
  facts.leftoverFunction = facts.uuidFunction && !dialect.capabilities.transactionalDdl && facts.idPresent
    && await dialect.airflow.functionHasAirflowSignature();
  return facts;
}

function classify(f: TaskInstanceFacts): { kind: AirflowStateKind; damage: string[]; summary: string } {
  if (f.revision === undefined || f.revision === null || !f.taskInstanceExists) {
    const why = !f.taskInstanceExists ? 'no task_instance table' : f.revision === undefined ? 'no alembic_version table' : 'alembic_version is empty';
    return { kind: 'unrecognised', damage: [], summary: `not an initialised Airflow database (${why})` };
  }
  const before = beforeDamage(f);
  const after = afterDamage(f, f.revision === UUID_PK_REVISION || f.revision === BEFORE_UUID_PK_REVISION);
  const revisionBefore = isBeforeUuidPrimaryKey(f.revision);
  if (before.length === 0 && revisionBefore !== false) {
    return { kind: 'healthy-before', damage: [], summary: `revision ${f.revision}, task_instance has its composite primary key: healthy` };
  }
  if (after.length === 0 && revisionBefore !== true) {
    return { kind: 'fully-migrated', damage: [], summary: `revision ${f.revision}, task_instance.id is the primary key: migration complete` };
  }
  if (f.revision === BEFORE_UUID_PK_REVISION && notBegun(f)) {
    // Only foreign keys missing, no task_instance.id: nothing shows that d59cbbef95eb ever ran (its first step adds id),
    // so it is not "half-applied d59cbbef95eb". Still repaired: on MySQL its step 5 drops each of the seven keys and
    // fails on a missing one, after filling every id; and the shape is not the one Airflow declares.
    const damage = before;
    return { kind: 'half-applied', damage, summary: `revision ${f.revision} with ${damage.join('; ')}, before d59cbbef95eb ever ran `
      + '(no task_instance.id): a damaged 05234396c6fc shape, or a repair stopped before re-creating them; the repair re-creates them' };
  }
  if (f.revision === BEFORE_UUID_PK_REVISION || f.revision === UUID_PK_REVISION) {
    // Measured against the 05234396c6fc shape, which the repair restores.
    const damage = f.revision === UUID_PK_REVISION && before.length === 0
      ? [`revision stamped ${UUID_PK_REVISION} but task_instance still has the ${BEFORE_UUID_PK_REVISION} shape`]
      : [...(f.revision === UUID_PK_REVISION ? [`revision stamped ${UUID_PK_REVISION} without the migration complete`] : []), ...before];
    return { kind: 'half-applied', damage, summary: `half-applied d59cbbef95eb at revision ${f.revision}: ${damage.join('; ')}` };
  }
  const damage = revisionBefore === false ? after : before;
  return {
    kind: 'unrecognised',
    damage,
    summary: `revision ${f.revision} with a task_instance that matches neither side of d59cbbef95eb: ${damage.join('; ')}`,
  };
}

/** The 05234396c6fc shape but for missing foreign keys: no trace of d59cbbef95eb (its first step adds task_instance.id). */
function notBegun(f: TaskInstanceFacts): boolean {
  return !f.idPresent && f.compositePrimaryKey && !f.otherPrimaryKey && !f.compositeUniqueKey && !f.leftoverFunction
    && f.missingForeignKeys.length > 0;
}

/** What keeps the schema from the 05234396c6fc shape. */
function beforeDamage(f: TaskInstanceFacts): string[] {
  const d: string[] = [];
  if (f.leftoverFunction) d.push(`leftover function ${UUID_FUNCTION}`);
  if (f.idPresent) d.push(`task_instance.id present${f.idIsPrimaryKey ? ' as the primary key' : ''}`);
  if (!f.compositePrimaryKey) d.push('composite primary key task_instance_pkey missing');
  if (f.otherPrimaryKey) d.push('task_instance has an unexpected primary key');
  if (f.compositeUniqueKey) d.push(`${COMPOSITE_UNIQUE_KEY} present`);
  if (f.missingForeignKeys.length > 0) d.push(`foreign keys missing: ${f.missingForeignKeys.map((k) => `${k.table}.${k.name}`).join(', ')}`);
  return d;
}

/**
 * What keeps the schema from the d59cbbef95eb shape. Later revisions move some of the seven foreign keys onto ti_id
 * (0068, 0063) and drop task_fail, so past d59cbbef95eb only the primary key on id is held against them.
 */
function afterDamage(f: TaskInstanceFacts, strict: boolean): string[] {
  // A leftover uuid_generate_v7 is harmless once the migration is complete: Airflow never calls it again.
  const d: string[] = [];
  if (!f.idPresent) d.push('task_instance.id missing');
  else if (!f.idIsPrimaryKey) d.push('task_instance.id is not the primary key');
  if (f.idNullable) d.push('task_instance.id is nullable');
  if (!strict) return d;
  if (!f.compositeUniqueKey) d.push(`${COMPOSITE_UNIQUE_KEY} missing`);
  if (f.missingForeignKeys.length > 0) d.push(`foreign keys missing: ${f.missingForeignKeys.map((k) => `${k.table}.${k.name}`).join(', ')}`);
  return d;
}
