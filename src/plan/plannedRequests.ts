import type { PlannedChange } from '../core/Gate.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { Dialect, ParameterSetting } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import type { ParameterRequest } from '../params/index.js';
import type { RunPlan } from './buildPlan.js';

/**
 * The plan's parameter changes as the requests the parameter run makes, and no others. Under the server's parameter
 * mutex each reads the value again — for the journal's "previous", and because another run may have raised it since
 * (then there is nothing to change) — and raises it to the plan's value, never to one decided now.
 */
export function plannedRequests(plan: RunPlan, targets: ConnectedTarget[]): ParameterRequest[] {
  return plan.parameterChanges.map((change) => {
    const target = targets.find((t) => t.role === change.target);
    if (!target) throw new OmMigrateError('INTERNAL', `the plan changes ${change.parameter} on the ${change.target} database, which this run has not opened`);
    return {
      target, parameter: change.parameter, scope: change.scope, ...(change.object !== null ? { object: change.object } : {}),
      plan: async (dialect: Dialect) => asPlanned(change, await readNow(change, target, dialect)),
    };
  });
}

async function readNow(change: PlannedChange, target: ConnectedTarget, dialect: Dialect): Promise<ParameterSetting | undefined> {
  if (change.parameter === 'log_bin_trust_function_creators') return dialect.params.planTrustFunctionCreators();
  return dialect.params.planSortMemory(change.atLeastBytes ?? Number.NaN, change.scope, { role: target.spec.user, database: target.spec.database });
}

/** What the server asks for now must be the plan's change (its parameter, where, the value it raises to). */
function asPlanned(change: PlannedChange, now: ParameterSetting | undefined): ParameterSetting | undefined {
  if (!now) return undefined;
  if (now.parameter !== change.parameter || now.scope !== change.scope || now.object !== change.object || now.next !== change.next) {
    throw new OmMigrateError('BLOCKED', `${change.target}: ${change.parameter} is no longer the change the plan makes `
      + `(planned ${change.scope} ${change.object ?? ''} → ${change.next}, now ${now.scope} ${now.object ?? ''} → ${now.next}); the run stops and puts back what it raised`,
    { hint: 'Run om-migrate up again (or preflight --dry-run --out again for a saved plan).' });
  }
  return now;
}
