import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'airflow-integrity';

/**
 * Rows that make d59cbbef95eb fail half-way, counted read-only before it runs (docs/facts/airflow.md, "Exact errors"):
 * - orphans in the seven tables whose foreign keys 0042 re-creates (its `ti_fk_constraints`, read in apache/airflow
 *   airflow-core/src/airflow/migrations/versions/0042_3_0_0_add_uuid_primary_key_to_task_instance_.py @000479235772):
 *   step 8 fails with 1452 on MySQL, leaving task_instance half-migrated, and with a ForeignKeyViolation on PostgreSQL;
 * - task_instance rows sharing (dag_id, task_id, run_id, map_index): step 7's unique key fails with 1062, and the
 *   repair cannot put the composite primary key back over them.
 * Only while d59cbbef95eb is still to run or to be repaired: afterwards the keys enforce both.
 */
export const airflowIntegrityGate: Gate = {
  id: GATE,
  title: 'Airflow rows d59cbbef95eb refuses',
  async check(ctx: GateContext): Promise<Finding[]> {
    const state = ctx.input.airflow?.state;
    const target = ctx.targets.find((t) => t.role === 'airflow');
    if (!state || !target) return [];
    const { orphanTotal, readIntegrity, TASK_INSTANCE_FOREIGN_KEYS } = ctx.tools.airflow;
    const integrity = await readIntegrity(target.dialect, state);
    if (!integrity) return [];
    const findings: Finding[] = [];
    const dirty = Object.entries(integrity.orphans).filter(([, n]) => n > 0);
    if (dirty.length > 0) {
      const fk = (table: string) => TASK_INSTANCE_FOREIGN_KEYS.find((k) => k.table === table)!.name;
      findings.push(finding(GATE, 'airflow', 'block',
        `${orphanTotal(integrity)} rows point at no task instance, which d59cbbef95eb's foreign keys refuse (the migration would stop half-way): `
          + dirty.map(([t, n]) => `${t} ${n} (${fk(t)})`).join(', '),
        'Delete them with om-migrate repair-airflow --delete-orphans --yes (after a verified backup), or by hand; list them with: '
          + Object.values(integrity.orphanQueries).map((q) => `${q};`).join(' '),
        { orphans: integrity.orphans, queries: integrity.orphanQueries }));
    }
    const { duplicates } = integrity;
    if (duplicates.keys > 0) {
      findings.push(finding(GATE, 'airflow', 'block',
        `${duplicates.keys} (dag_id, task_id, run_id, map_index) keys are held by ${duplicates.rows} task_instance rows: `
          + 'the unique key d59cbbef95eb adds (and the primary key a repair restores) refuses them',
        `Decide which row of each key to keep and delete the others by hand (after a backup); list them with: ${integrity.duplicateQuery};`,
        { duplicateKeys: duplicates.keys, duplicateRows: duplicates.rows, query: integrity.duplicateQuery }));
    }
    if (findings.length === 0) {
      findings.push(finding(GATE, 'airflow', 'ok',
        `no orphan rows in the ${Object.keys(integrity.orphans).length} dependant tables, no duplicate task keys`,
        undefined, { orphans: integrity.orphans, duplicateKeys: 0 }));
    }
    return findings;
  },
};
