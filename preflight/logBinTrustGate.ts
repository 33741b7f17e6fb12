import semver from 'semver';
import { ConnectedTarget, finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'log-bin-trust';
const PARAMETER = 'log_bin_trust_function_creators';

/**
 * Airflow's d59cbbef95eb creates a SQL function. With binary logging on, MySQL refuses that to a user without SUPER
 * unless log_bin_trust_function_creators is 1 (error 1419, apache/airflow#49611).
 */
export const logBinTrustGate: Gate = {
  id: GATE,
  title: 'log_bin_trust_function_creators',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const { target, reason } of relevantTargets(ctx)) {
      const p = target.dialect.params;
      if (!(await p.binaryLogging())) {
        findings.push(finding(GATE, target.role, 'ok', `binary logging is off: ${reason} can create its function`));
      } else if (await p.trustFunctionCreators()) {
        findings.push(finding(GATE, target.role, 'ok', `binary logging is on and ${PARAMETER} is already 1`));
      } else if (target.privileges.super) {
        findings.push(finding(GATE, target.role, 'ok', `binary logging is on, but ${target.spec.user} has SUPER`));
      } else if (ctx.config.paramsMode === 'skip') {
        findings.push(finding(GATE, target.role, 'block', `--params skip, but binary logging is on and ${PARAMETER} is 0: ${reason} will fail with error 1419`,
          `Set ${PARAMETER} = 1 on the server, or run without --params skip.`));
      } else {
        const admin = await ctx.adminFor(target);
        const canEnable = admin ? (await admin.privileges()).super : false;
        findings.push(canEnable
          ? finding(GATE, target.role, 'warn', `binary logging is on and ${PARAMETER} is 0: will be set to 1 for ${reason} and put back after`,
            undefined, undefined, { kind: 'raise-parameter', parameter: 'log_bin_trust_function_creators' })
          : finding(GATE, target.role, 'block',
            `binary logging is on, ${PARAMETER} is 0 and ${target.spec.user} lacks SUPER: ${reason} would fail with error 1419`,
            `Give --admin-url with an account that has SUPER, or ${ctx.tools.parameterGroupHint(target.spec.engine, PARAMETER, '1', target.server.managed)}`));
      }
    }
    return findings;
  },
};

/** The MySQL-family servers on which an Airflow migration will create a function in this run. */
function relevantTargets(ctx: GateContext): Array<{ target: ConnectedTarget; reason: string }> {
  const { isBeforeUuidPrimaryKey, UUID_PK_REVISION } = ctx.tools.airflow;
  const result: Array<{ target: ConnectedTarget; reason: string }> = [];
  const airflow = ctx.targets.find((t) => t.role === 'airflow');
  if (airflow) {
    // Nothing to migrate: the function is never created in this run.
    if (ctx.input.airflow?.pending === false && !ctx.input.airflowNeedsRepair) return result;
    const revision = ctx.versions.airflow?.revision;
    const before = typeof revision === 'string' ? isBeforeUuidPrimaryKey(revision) : true;
    if (airflow.dialect.capabilities.functionCreationNeedsTrust && before !== false) {
      result.push({ target: airflow, reason: `Airflow migration ${UUID_PK_REVISION}` });
    }
    return result;
  }
  // No Airflow database in this run, but the target release brings Airflow 3: its database is normally on this server.
  const om = ctx.targets.find((t) => t.role === 'openmetadata');
  const to = ctx.config.targetVersion;
  if (om && om.dialect.capabilities.functionCreationNeedsTrust && to && semver.gte(to, '1.11.0')) {
    result.push({ target: om, reason: `the Airflow 3 migration of OpenMetadata ${to} (${UUID_PK_REVISION})` });
  }
  return result;
}
