import { isOmMigrateError } from '../src/errors.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const UNREACHABLE = { kind: 'unreachable' } as const;

/** Each database reachable, logged into, and a server release om-migrate supports. */
export const connectionGate: Gate = {
  id: 'connection',
  title: 'Connection',
  reportsAdminFailures: true,
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = ctx.unreachable.map((f) =>
      finding('connection', f.role, 'block', f.error.message, f.error.hint, { failure: f.error.details?.failure, driverMessage: f.error.details?.driverMessage },
        UNREACHABLE));
    for (const t of ctx.targets) {
      const name = t.server.flavour === 'mariadb' ? 'MariaDB' : t.server.flavour === 'mysql' ? 'MySQL' : 'PostgreSQL';
      const managed = t.server.managed ? ` on ${t.server.managed}` : '';
      const data = { server: ctx.tools.describeSpec(t.spec), flavour: t.server.flavour, version: t.server.version, managed: t.server.managed ?? null };
      findings.push(t.server.belowFloor
        ? finding('connection', t.role, 'block', `${name} ${t.server.version}${managed} is below the supported ${t.server.floor}`,
          `Upgrade the server to ${name} ${t.server.floor} or newer first; OpenMetadata does not support older releases.`, data, UNREACHABLE)
        : finding('connection', t.role, 'ok', `connected to ${name} ${t.server.version}${managed} as ${t.spec.user}`, undefined, data));
    }
    for (const t of ctx.targets) {
      // The admin connection must reach this very server: an admin URL for another server would change its globals.
      try {
        const admin = await ctx.adminFor(t);
        if (admin) findings.push(finding('connection', t.role, 'ok', `the admin URL reaches the same server as ${t.spec.user}`));
      } catch (error) {
        if (!isOmMigrateError(error)) throw error;
        findings.push(finding('connection', t.role, 'block', error.message, error.hint,
          { admin: true, failure: error.details?.failure ?? null, driverMessage: error.details?.driverMessage ?? null }, UNREACHABLE));
      }
    }
    return findings;
  },
};
