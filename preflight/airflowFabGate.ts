import { finding, type ConnectedTarget, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'airflow-fab';

/** A foreign key as the target's dialect reports it. */
type ForeignKeyInfo = Awaited<ReturnType<ConnectedTarget['dialect']['introspect']['foreignKeysReferencing']>>[number];

/** The foreign keys 02ca36b0235b drops by name: (table, column) → the name Airflow's naming convention gives it. */
const FAB_KEYS: ReadonlyArray<{ table: string; column: string; referenced: string }> = [
  { table: 'ab_permission_view_role', column: 'role_id', referenced: 'ab_role' },
  { table: 'ab_permission_view_role', column: 'permission_view_id', referenced: 'ab_permission_view' },
  { table: 'ab_user_role', column: 'role_id', referenced: 'ab_role' },
  { table: 'ab_user_role', column: 'user_id', referenced: 'ab_user' },
];

/**
 * The FAB provider's own migrations, which `airflow db migrate` runs after Airflow's (docs/facts/airflow.md, "The FAB
 * provider"): its revision in alembic_version_fab is named, and while its 02ca36b0235b is still ahead, each foreign key
 * it drops by its conventional name ("<table>_<column>_fkey") must carry that name. Tables the ORM created before
 * FAB 3.4.0 carry the server's default names on MySQL (ab_permission_view_role_ibfk_1): the drop then fails with 1091
 * and Airflow's migration stops half-way (apache/airflow#65402; fixed in apache-airflow-providers-fab 3.6.3). Renaming
 * the keys first is harmless with any provider version, so `up` blocks with the statements that do it.
 */
export const airflowFabGate: Gate = {
  id: GATE,
  title: 'Airflow FAB provider',
  async check(ctx: GateContext): Promise<Finding[]> {
    const target = ctx.targets.find((t) => t.role === 'airflow');
    const facts = ctx.versions.airflow;
    if (!target || !facts) return [];
    const { describeFabRevision, FAB_KEY_FIX_REVISION, FAB_REVISIONS } = ctx.tools.airflow;
    const revision = facts.fabRevision;
    const findings: Finding[] = [];
    if (typeof revision === 'string') {
      const known = FAB_REVISIONS.some((r) => r.revision === revision);
      findings.push(finding(GATE, 'airflow', known ? 'ok' : 'warn', `FAB provider at ${describeFabRevision(revision)}`,
        known ? undefined : 'Check the FAB provider installed in the ingestion image; om-migrate knows its chain up to 02ca36b0235b.',
        { fabRevision: revision }));
      if (revision === FAB_KEY_FIX_REVISION) return findings;
    }
    if (!(await target.dialect.introspect.tableExists('ab_permission_view_role'))) return findings;
    const wrong: Array<{ fk: ForeignKeyInfo; expected: string }> = [];
    for (const key of FAB_KEYS) {
      const expected = `${key.table}_${key.column}_fkey`;
      const found = (await target.dialect.introspect.foreignKeysReferencing(key.referenced))
        .filter((fk) => fk.table === key.table && fk.columns.length === 1 && fk.columns[0] === key.column);
      for (const fk of found) if (fk.name !== expected) wrong.push({ fk, expected });
    }
    if (wrong.length === 0) return findings;
    const statements = wrong.flatMap((w) => target.dialect.airflow.renameForeignKeyStatements(w.fk, w.expected));
    findings.push(finding(GATE, 'airflow', ctx.command === 'up' ? 'block' : 'warn',
      `the FAB provider's migration 02ca36b0235b drops its foreign keys by name, and this database names them otherwise: `
        + `${wrong.map((w) => `${w.fk.table}.${w.fk.name} (expected ${w.expected})`).join(', ')}; `
        + 'with apache-airflow-providers-fab before 3.6.3 airflow db migrate fails with 1091 "Can\'t DROP …" half-way (apache/airflow#65402)',
      `Rename them first, as the Airflow database's owner (harmless with any FAB version): ${statements.join(' ')}`,
      { keys: wrong.map((w) => ({ table: w.fk.table, name: w.fk.name, expected: w.expected })), statements }));
    return findings;
  },
};
