import { finding, type ConnectedTarget, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'servers-stopped';

/** Another session of a database user, as the target's dialect lists it. */
type DatabaseSession = Awaited<ReturnType<ConnectedTarget['dialect']['sessions']['othersOf']>>[number];

/**
 * A release whose migration needs every OpenMetadata server stopped (1.13.0 empties the Quartz tables a running
 * scheduler holds: its schemaChanges.sql says so, src/openmetadata/releases.ts) is crossed only with no other session of
 * OpenMetadata's database user on its database: each one is listed (host, since when, what it runs) and blocks.
 * om-migrate's own sessions are never listed (SessionLister). `entrypoint` waits for them to go (executePlan).
 */
export const serversStoppedGate: Gate = {
  id: GATE,
  title: 'OpenMetadata servers stopped',
  async check(ctx: GateContext): Promise<Finding[]> {
    const om = ctx.input.openmetadata;
    const target = ctx.targets.find((t) => t.role === 'openmetadata');
    const current = ctx.versions.openmetadata?.current;
    if (!om || !target || current === undefined || (om.pending !== undefined && om.pending.length === 0)) return [];
    const destination = om.expected ?? om.target;
    const needing = destination ? ctx.tools.openmetadata.releasesCrossed(current, destination).filter((r) => r.serversStopped) : [];
    if (needing.length === 0) return [];
    const release = needing[0];
    const user = target.spec.user;
    if (ctx.config.command === 'rehearse') {
      // A rehearsal migrates a copy: the servers on the real database may (and should) keep running meanwhile.
      return [finding(GATE, 'openmetadata', 'ok',
        `${release.version} needs every OpenMetadata server stopped: not checked for a rehearsal, which migrates a copy; up will check it`, undefined,
        { release: release.version, user, database: target.spec.database })];
    }
    const sessions = await target.dialect.sessions.othersOf(user);
    const data = { release: release.version, user, database: target.spec.database, sessions };
    if (sessions.length === 0) {
      return [finding(GATE, 'openmetadata', 'ok',
        `no other session of ${user} on ${target.spec.database}: OpenMetadata's servers are stopped, as ${release.version} requires`, undefined, data)];
    }
    return [finding(GATE, 'openmetadata', 'block',
      `${sessions.length} other session(s) of ${user} on ${target.spec.database} — an OpenMetadata server still running? ${release.serversStopped}: `
        + sessions.slice(0, 5).map(describe).join('; ') + (sessions.length > 5 ? `; and ${sessions.length - 5} more` : ''),
      'Stop every OpenMetadata server and replica first (docker compose stop openmetadata-server, or kubectl scale deployment openmetadata --replicas=0; '
        + 'with Helm use the Recreate strategy), then run up again; om-migrate entrypoint waits up to --lock-timeout for them to go.',
      data, { kind: 'servers-running' })];
  },
};

/** "10.0.0.7:51234 since 2026-06-08T10:00:00.000Z (Sleep)" or "…(active: SELECT …)" */
function describe(s: DatabaseSession): string {
  const doing = s.statement ? `${s.state ?? 'running'}: ${s.statement.replace(/\s+/g, ' ').slice(0, 80)}` : s.state ?? 'connected';
  return `session ${s.id} from ${s.host ?? 'an unknown host'}${s.since ? ` since ${s.since}` : ''} (${doing})`;
}
