import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'privileges';

/**
 * Every privilege the plan needs, checked before anything is backed up or changed (src/plan/privilegeNeeds.ts): the
 * repair's DDL, om-migrate's own tables, the migrators' work (d59cbbef95eb's CREATE FUNCTION among it). A missing one
 * used to surface as om-migrate's own "unexpected error" creating its ledger, or as a failed step after a backup and a
 * raised global. Blocks naming the GRANT; a user whose privileges may come through roles gets a warning.
 */
export const privilegesGate: Gate = {
  id: GATE,
  title: 'Privileges',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    const holder = ctx.tools.ledgerRole(ctx.targets);
    for (const t of ctx.targets) {
      const needs = await ctx.tools.privilegeNeeds(t, ctx.input, {
        holdsLedger: t.role === holder,
        repair: t.role === 'airflow' && ctx.input.airflowNeedsRepair && ctx.input.airflow ? repairPlanOf(ctx, ctx.input.airflow.state) : undefined,
      });
      if (needs.length === 0) continue;
      const gaps = await t.dialect.missingPrivileges(needs);
      for (const gap of gaps) {
        findings.push(finding(GATE, t.role, gap.certain ? 'block' : 'warn',
          `${t.spec.user} lacks ${gap.missing}, which ${gap.why.join('; ')} need${gap.why.length === 1 ? 's' : ''}`
          + `${gap.certain ? '' : ' (as SHOW GRANTS shows it: privileges through roles are not expanded)'}`,
          `${gap.grant} (as an administrator), then run again; nothing was changed.`, { missing: gap.missing, why: gap.why, grant: gap.grant }));
      }
      if (gaps.length === 0) {
        findings.push(finding(GATE, t.role, 'ok', `${t.spec.user} has the privileges the plan needs (${needs.map((n) => n.why).join('; ')})`));
      }
    }
    return findings;
  },
};

/** The repair up's first step will run; undefined when it would refuse anyway (orphans, duplicates: their own gate). */
function repairPlanOf(ctx: GateContext, state: NonNullable<GateContext['input']['airflow']>['state']): ReturnType<GateContext['tools']['airflow']['planRepair']> | undefined {
  const target = ctx.targets.find((t) => t.role === 'airflow');
  if (!target) return undefined;
  try {
    return ctx.tools.airflow.planRepair(state, target.dialect.airflowRepair, { backupVerified: true });
  } catch {
    return undefined;
  }
}
