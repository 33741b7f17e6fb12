import type { RepairPlan } from '../airflow/planRepair.js';
import { TASK_INSTANCE, UUID_FUNCTION } from '../airflow/taskInstanceShape.js';
import type { TargetRole } from '../config/ConnectionSpec.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { PrivilegeName, PrivilegeNeed } from '../dialects/types.js';

/** d59cbbef95eb's function on PostgreSQL, by the signature its own drop uses (docs/facts/airflow.md). */
const PG_FUNCTION_SIGNATURE = `${UUID_FUNCTION}(timestamp with time zone)`;

/**
 * The whole of a migrator's work, as OpenMetadata's and Airflow's own set-ups grant it: all privileges on the
 * database (open-metadata/OpenMetadata docker/mysql/mysql-script.sql: `GRANT ALL PRIVILEGES ON openmetadata_db.*` and
 * `… ON airflow_db.*`; docker/postgresql/postgres-script.sql: `GRANT ALL PRIVILEGES ON DATABASE …`). Their migrations
 * create, alter, index and drop tables and add foreign keys; on PostgreSQL this reads as CREATE on the schema.
 */
const MIGRATOR: PrivilegeName[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX', 'REFERENCES'];

/** Everything `up` will do to one database, as privileges: preflight checks them all before anything changes. */
export async function privilegeNeeds(target: ConnectedTarget, input: PlanInput, options: { holdsLedger: boolean; repair?: RepairPlan }): Promise<PrivilegeNeed[]> {
  const needs: PrivilegeNeed[] = [];
  if (options.holdsLedger) needs.push(...await ownTableNeeds(target));
  if (target.role === 'openmetadata' && input.openmetadata && input.openmetadata.pending?.length !== 0) {
    needs.push({ privileges: MIGRATOR, why: 'OpenMetadata\'s migrations' });
  }
  const af = input.airflow;
  if (target.role === 'airflow' && af) {
    if (options.repair) needs.push(...repairNeeds(options.repair, target.spec.engine));
    const ahead = af.state.kind === 'healthy-before' || af.state.kind === 'half-applied';
    if (af.pending !== false || input.airflowNeedsRepair) {
      needs.push({ privileges: MIGRATOR, why: 'Airflow\'s migrations' });
      if (ahead) {
        needs.push({ privileges: ['CREATE ROUTINE'], why: 'd59cbbef95eb\'s CREATE FUNCTION uuid_generate_v7' });
        needs.push({ privileges: ['ALTER', 'UPDATE', 'REFERENCES'], tables: [TASK_INSTANCE], why: 'd59cbbef95eb\'s ALTER TABLE and UPDATE of task_instance' });
        needs.push({ privileges: ['ALTER'], tables: af.state.facts.dependantTables, why: 'd59cbbef95eb\'s foreign keys on task_instance\'s dependants' });
      }
    }
  }
  return needs;
}

/** om-migrate's ledger and lock-holder table: created (MySQL: CREATE, then ALTER TABLE … ADD INDEX, as knex builds them), or written. */
async function ownTableNeeds(target: ConnectedTarget): Promise<PrivilegeNeed[]> {
  const why = 'om-migrate\'s own tables (om_migrate_ledger, om_migrate_lock_holder)';
  if (!(await target.dialect.ledger.exists())) return [{ privileges: ['CREATE', 'ALTER', 'INSERT', 'UPDATE', 'DELETE', 'SELECT'], why }];
  return [{ privileges: ['INSERT', 'UPDATE', 'DELETE', 'SELECT'], tables: ['om_migrate_ledger'], why }];
}

/** What the repair's statements need, action by action (src/airflow/planRepair.ts). */
export function repairNeeds(plan: RepairPlan, engine: ConnectedTarget['spec']['engine']): PrivilegeNeed[] {
  const needs: PrivilegeNeed[] = [];
  const f = plan.state.facts;
  const ids = new Set(plan.actions.map((a) => a.id));
  const shape = ['restore-primary-key', 'drop-composite-key', 'drop-id'].filter((id) => ids.has(id as never));
  if (shape.length > 0) needs.push({ privileges: ['ALTER'], tables: [TASK_INSTANCE], why: 'the repair\'s ALTER TABLE task_instance' });
  if (ids.has('create-foreign-key')) {
    const tables = [...new Set([...f.missingForeignKeys, ...f.presentForeignKeys].map((k) => k.table))];
    needs.push({ privileges: ['ALTER'], tables, why: 'the repair\'s foreign keys on task_instance\'s dependants' });
    needs.push({ privileges: ['REFERENCES'], tables: [TASK_INSTANCE], why: 'the repair\'s foreign keys pointing at task_instance' });
  }
  if (ids.has('stamp-revision')) needs.push({ privileges: ['UPDATE'], tables: ['alembic_version'], why: 'the repair\'s stamp of alembic_version' });
  if (ids.has('drop-function')) {
    needs.push({ privileges: [], routine: { name: UUID_FUNCTION, signature: engine === 'postgres' ? PG_FUNCTION_SIGNATURE : undefined },
      why: `the repair's DROP FUNCTION ${UUID_FUNCTION}` });
  }
  if (ids.has('delete-orphans')) needs.push({ privileges: ['DELETE'], tables: f.dependantTables, why: 'deleting the orphan rows (--delete-orphans)' });
  if (ids.has('truncate-task-instance')) {
    needs.push({ privileges: ['DROP'], tables: [TASK_INSTANCE, ...f.dependantTables], why: 'TRUNCATE of task_instance and its dependants (--truncate-task-instance)' });
  }
  if (ids.has('fix-malformed-ids')) needs.push({ privileges: ['UPDATE'], tables: [TASK_INSTANCE], why: 'rewriting the malformed ids (--fix-malformed-ids)' });
  return needs;
}

/** The role whose database holds om-migrate's ledger: OpenMetadata's when there is one (executePlan does the same). */
export function ledgerRole(targets: ConnectedTarget[]): TargetRole | undefined {
  return (targets.find((t) => t.role === 'openmetadata') ?? targets[0])?.role;
}
