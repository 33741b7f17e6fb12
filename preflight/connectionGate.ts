import { describeSpec } from '../src/config/ConnectionSpec.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

/** Each database reachable, logged into, and a server release om-migrate supports. */
export const connectionGate: Gate = {
  id: 'connection',
  title: 'Connection',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = ctx.unreachable.map((f) =>
      finding('connection', f.role, 'block', f.error.message, f.error.hint, { failure: f.error.details?.failure, driverMessage: f.error.details?.driverMessage }));
    for (const t of ctx.targets) {
      const name = t.server.flavour === 'mariadb' ? 'MariaDB' : t.server.flavour === 'mysql' ? 'MySQL' : 'PostgreSQL';
      const managed = t.server.managed ? ` on ${t.server.managed}` : '';
      const data = { server: describeSpec(t.spec), flavour: t.server.flavour, version: t.server.version, managed: t.server.managed ?? null };
      findings.push(t.server.belowFloor
        ? finding('connection', t.role, 'block', `${name} ${t.server.version}${managed} is below the supported ${t.server.floor}`,
          `Upgrade the server to ${name} ${t.server.floor} or newer first; OpenMetadata does not support older releases.`, data)
        : finding('connection', t.role, 'ok', `connected to ${name} ${t.server.version}${managed} as ${t.spec.user}`, undefined, data));
    }
    return findings;
  },
};
