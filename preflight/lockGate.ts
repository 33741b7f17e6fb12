import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'lock';

/** Another om-migrate run migrating the same database right now. Read-only: asks who holds the lock. */
export const lockGate: Gate = {
  id: GATE,
  title: 'Run lock',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    for (const t of ctx.targets) {
      if (ctx.heldLocks.has(t.role)) {
        findings.push(finding(GATE, t.role, 'ok', 'this run holds the lock'));
        continue;
      }
      const holder = await ctx.tools.describeLockHolder(t);
      findings.push(holder
        ? finding(GATE, t.role, 'block', `another om-migrate run holds the lock on ${t.spec.database}: ${holder.text}`,
          'Wait for it to finish (up --lock-timeout 10m waits); a killed run frees the lock at once.', { holder }, { kind: 'run-in-progress' })
        : finding(GATE, t.role, 'ok', 'no other run holds the lock'));
    }
    return findings;
  },
};
