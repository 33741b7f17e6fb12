import semver from 'semver';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'versions';

/** A breaking change of one release, as OpenMetadata's upgrade pages list it (src/openmetadata/upgradeNotes.ts). */
type UpgradeNote = GateContext['tools']['openmetadata']['UPGRADE_NOTES'][number];

/**
 * Where the databases are, where the installed migrators take them, what is pending, and which breaking changes lie
 * between. An explicit --to other than what the installed distribution migrates to (beyond it, below it, a downgrade),
 * a release the database cannot reach directly (2.1 from below 2.0.0), no migrator to run, and --force across 1.11
 * without `recover` are blocks: nothing changes before them.
 */
export const versionsGate: Gate = {
  id: GATE,
  title: 'Versions',
  async check(ctx: GateContext): Promise<Finding[]> {
    return [...openMetadataFindings(ctx), ...airflowFindings(ctx)];
  },
};

function openMetadataFindings(ctx: GateContext): Finding[] {
  const facts = ctx.versions.openmetadata;
  const om = ctx.input.openmetadata;
  if (!facts || !om) return [];
  const { betterTarget, releasePath, requiredHop, UPGRADE_NOTES } = ctx.tools.openmetadata;
  const findings: Finding[] = [];
  const current = facts.current;
  const requested = ctx.config.targetVersion;
  const dist = om.distribution;
  const data = { current: current ?? null, target: om.target ?? null, expected: om.expected ?? null, reach: dist?.reach ?? null,
    pending: om.pending ?? null, migrator: om.migrator.form };

  if (!dist && om.migrator.form !== 'custom') {
    // up cannot run the migrator without it; a preflight from elsewhere (a laptop) still checks the databases.
    findings.push(finding(GATE, 'openmetadata', ctx.command === 'up' ? 'block' : 'warn',
      `no OpenMetadata distribution at ${ctx.config.migrators.omHome}: what is pending cannot be read, and up could not run the migrator`,
      'Run om-migrate where OpenMetadata is installed (its server image, /opt/openmetadata), or give --om-home, or your own --om-migrator.', data));
  } else if (dist && om.migrator.form === 'ops-script' && !dist.hasOpsScript) {
    findings.push(finding(GATE, 'openmetadata', 'block', `${ctx.config.migrators.omHome} has migration folders but no bootstrap/openmetadata-ops.sh`,
      'Point --om-home at the OpenMetadata server distribution itself.', data));
  }
  if (requested && dist?.reach && semver.gt(requested, dist.reach)) {
    findings.push(finding(GATE, 'openmetadata', 'block',
      `--to ${requested} is beyond what the distribution at ${dist.home} can migrate to (${dist.reach})`,
      `Install OpenMetadata ${requested} (its server image) and run om-migrate there, or leave --to out to migrate to ${dist.reach}.`, data));
  }
  const downgrade = current !== undefined && om.target !== undefined && semver.lt(om.target, current);
  if (downgrade) {
    const what = requested ? `--to ${requested}` : `the distribution's ${om.target}`;
    findings.push(finding(GATE, 'openmetadata', 'block', `${what} is lower than the database's ${current}: a downgrade`,
      `Migrations only go forward: restore a backup taken at ${om.target} instead (om-migrate restore), or install a newer distribution.`, data));
  } else if (requested && dist?.reach && semver.lt(requested, dist.reach) && om.migrator.form !== 'custom') {
    // OpenMetadata's migrator has no target option: it would migrate to its own release anyway (issue 21, point 6).
    findings.push(finding(GATE, 'openmetadata', 'block',
      `${ctx.config.targetSource ?? '--to'} ${requested} is below what the distribution at ${dist.home} migrates to (${dist.reach}): its migrator has no target and would take the database to ${dist.reach} anyway`,
      `Leave --to (and OM_MIGRATE_TARGET_VERSION) out to migrate to ${dist.reach}, or run om-migrate with OpenMetadata ${requested}'s own distribution.`, data));
  }
  const destination = om.expected ?? om.target;
  const hop = destination ? requiredHop(current, destination) : undefined;
  if (hop && current) {
    findings.push(finding(GATE, 'openmetadata', 'block',
      `OpenMetadata ${hop.release} cannot migrate a database at ${current}: it must be on ${hop.floor} or later first (its migrator refuses, even with --force)`,
      `Upgrade to ${hop.via} first — run om-migrate up with that release's distribution (its server image) — then with ${hop.release}'s.`,
      { ...data, path: releasePath(current, destination), hop }));
  }
  const better = betterTarget(destination);
  if (better) {
    findings.push(finding(GATE, 'openmetadata', 'warn', `${destination} is not the release to upgrade to: ${better.why}`,
      `Upgrade to ${better.release} instead (install its distribution and run om-migrate there).`, { ...data, betterTarget: better.release }));
  }
  const force = forceFinding(ctx, current);
  if (force) findings.push(force);
  findings.push(...historyFindings(ctx));

  const pending = om.pending === undefined ? 'what is pending is the migrator\'s to decide (no distribution to read)'
    : om.pending.length === 0 ? 'nothing pending' : `${om.pending.length} version(s) pending (${om.pending[0]} … ${om.pending[om.pending.length - 1]})`;
  const where = current === undefined ? `fresh install (${facts.tableExists ? 'SERVER_CHANGE_LOG is empty' : 'no SERVER_CHANGE_LOG table'})`
    : `OpenMetadata ${current}`;
  findings.push(finding(GATE, 'openmetadata', 'ok', `${where} → ${om.expected ?? om.target ?? 'the release installed'}: ${pending}`, undefined,
    { ...data, path: releasePath(current, destination) }));

  if (current && om.target && semver.gt(om.target, current)) {
    const crossed = UPGRADE_NOTES.filter((n) => semver.gt(n.version, current) && semver.lte(n.version, om.target!));
    findings.push(...crossed.map((note) => noteFinding(note, ctx)).filter((f): f is Finding => f !== undefined));
  }
  return findings;
}

/**
 * SERVER_CHANGE_LOG as the installed migrator and the server will read it (docs/facts/openmetadata.md, "Which versions
 * the migrator runs"): rows of a 2.1 history that are not COMPLETED (they do not count, and the migrator runs their
 * version again), version folders below the highest recorded version that were never run (a gap), and recorded
 * versions the distribution has no folder for. The server refused to start over the last two ("Missing migrations that
 * were not executed […]" / "Unexpected executed migrations […]", #24434, #24528) until the migrator learned to fill gaps.
 */
function historyFindings(ctx: GateContext): Finding[] {
  const facts = ctx.versions.openmetadata!;
  const dist = ctx.input.openmetadata?.distribution;
  const findings: Finding[] = [];
  for (const row of facts.unfinished) {
    const meaning = row.status === 'STARTED'
      ? `a migrate run stopped while it ran ${row.version} (killed or crashed): its changes may be partial`
      : `${row.version} failed and was recorded as ${row.status} (a --force run goes on past failures): its changes may be partial`;
    findings.push(finding(GATE, 'openmetadata', 'warn', `SERVER_CHANGE_LOG: ${meaning}; it does not count as applied, and the migrator runs ${row.version} again`,
      `Let up run it again with a backup first; if it fails again, restore that backup (om-migrate restore) rather than running openmetadata-ops.sh repair, which deletes the row and its logged statements.`,
      { code: `change-log-${row.status.toLowerCase()}`, version: row.version, status: row.status }));
  }
  if (!dist || facts.current === undefined) return findings;
  const highest = facts.current;
  const { fillsGaps, gapVersions, unexpectedVersions } = ctx.tools.openmetadata;
  const gaps = gapVersions(dist, facts.recorded);
  const unfilled = gaps.filter((g) => !fillsGaps(dist, g, highest));
  const filled = gaps.filter((g) => fillsGaps(dist, g, highest));
  const release = dist.release ?? dist.reach ?? 'this';
  if (unfilled.length > 0) {
    findings.push(finding(GATE, 'openmetadata', 'warn',
      `SERVER_CHANGE_LOG has no row for ${unfilled.join(', ')}, below its highest version ${highest}: the ${release} migrator never runs a version below the highest one, and the server may refuse to start with "Missing migrations that were not executed" (#24434)`,
      'Upgrade with a 1.13.0 or later distribution, whose migrator runs the versions that were skipped; check afterwards that SERVER_CHANGE_LOG records them.',
      { code: 'change-log-gaps', gaps: unfilled, highest }));
  }
  if (filled.length > 0) {
    findings.push(finding(GATE, 'openmetadata', 'ok',
      `SERVER_CHANGE_LOG has no row for ${filled.join(', ')}, below ${highest}: the ${release} migrator runs them now (it fills gaps)`, undefined,
      { code: 'change-log-gaps-filled', gaps: filled, highest }));
  }
  const unexpected = unexpectedVersions(dist, facts.recorded);
  if (unexpected.length > 0) {
    findings.push(finding(GATE, 'openmetadata', 'warn',
      `SERVER_CHANGE_LOG records ${unexpected.join(', ')}, which the distribution at ${dist.home} has no folder for: the server may refuse to start with "Unexpected executed migrations" (#24434)`,
      `Use a distribution that ships these folders (later releases put the removed ones back as placeholders); do not delete the rows by hand.`,
      { code: 'change-log-unexpected', versions: unexpected }));
  }
  return findings;
}

/**
 * om-migrate never adds --force; an operator may pass it to the migrator. Across 1.11 from below it loses roles, policies
 * and bot relationships (open-metadata/OpenMetadata PR #24985): refused unless the distribution has `recover` (1.11.4+),
 * which up then runs after it.
 */
function forceFinding(ctx: GateContext, current: string | undefined): Finding | undefined {
  const om = ctx.input.openmetadata!;
  if (!ctx.config.migrators.omArgs.includes('--force')) return undefined;
  const crosses = current !== undefined && semver.lt(current, '1.11.0') && om.expected !== undefined && semver.gte(om.expected, '1.11.0');
  if (!crosses) {
    return finding(GATE, 'openmetadata', 'warn', '--force re-runs every migration and lets step failures pass',
      'up reads the migrator\'s output for the failures it swallowed and lists them.');
  }
  if (om.distribution?.reach && semver.gte(om.distribution.reach, '1.11.4')) {
    return finding(GATE, 'openmetadata', 'warn', `--force across 1.11 (from ${current}) loses roles, policies and bot relationships`,
      'up runs openmetadata-ops.sh recover right after the forced migration, as the 1.11.4 distribution allows.');
  }
  return finding(GATE, 'openmetadata', 'block', `--force across 1.11 (from ${current}) loses roles, policies and bot relationships (PR #24985)`,
    'Leave --force out, or use a 1.11.4 or later distribution, whose recover command om-migrate runs after it.');
}

/**
 * A breaking change of a crossed release (src/openmetadata/upgradeNotes.ts, from OpenMetadata's upgrade pages): a warning
 * with its action when it is something to do before; an ok line for something to do after, which up's summary lists.
 * A note about Airflow's database shows only when there is one.
 */
function noteFinding(note: UpgradeNote, ctx: GateContext): Finding | undefined {
  const airflow = ctx.config.airflow;
  if (note.concerns === 'airflow' && !airflow) return undefined;
  const target = note.concerns === 'airflow' ? 'airflow' : 'openmetadata';
  const data = { note: note.id, version: note.version, when: note.when, check: note.check ?? null, source: note.source };
  if (note.check === 'airflow-mysql-driver' && airflow) {
    if (airflow.engine === 'mysql' && airflow.driver && airflow.driver !== 'mysqldb') {
      return finding(GATE, 'airflow', 'warn', `${note.version}: ${note.title}; the Airflow URL uses mysql+${airflow.driver}`,
        'Set DB_SCHEME=mysql+mysqldb for the ingestion container (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=mysql+mysqldb://…).',
        { ...data, driver: airflow.driver });
    }
    return finding(GATE, 'airflow', 'ok', `${note.version}: ${note.title}; the Airflow URL's driver is ${airflow.driver ?? 'the default'}`, undefined, data);
  }
  if (note.check === 'airflow-3-binlog') {
    return finding(GATE, target, 'ok', `${note.version}: ${note.title}: checked by the log_bin_trust_function_creators gate`, undefined, data);
  }
  if (note.when === 'after') return finding(GATE, target, 'ok', `after the upgrade (${note.version}): ${note.title}`, note.action, data, { kind: 'after-upgrade' });
  return finding(GATE, target, 'warn', `${note.version}: ${note.title}`, note.action, data);
}

function airflowFindings(ctx: GateContext): Finding[] {
  const airflow = ctx.versions.airflow;
  if (!airflow) return [];
  const { revision } = airflow;
  const pending = ctx.input.airflow;
  const what = pending?.pending === undefined ? '' : pending.pending ? '; migrations pending' : '; nothing pending';
  if (revision === undefined) {
    return [finding(GATE, 'airflow', 'ok', 'no alembic_version table: a fresh Airflow database', undefined, { revision: null })];
  }
  if (revision === null) {
    return [finding(GATE, 'airflow', 'warn', 'alembic_version is empty: Airflow cannot tell which migrations ran',
      'If the database holds Airflow tables, stamp the right revision (airflow db migrate will otherwise try to recreate them).',
      { revision: null })];
  }
  const known = ctx.tools.airflow.findRevision(revision);
  return [finding(GATE, 'airflow', known ? 'ok' : 'warn', `Airflow at ${ctx.tools.airflow.describeRevision(revision)}${what}`,
    known ? undefined : 'Check that this is an Airflow metadata database; om-migrate will not repair an unknown revision.',
    { revision, chain: known?.chain ?? null, pending: pending?.pending ?? null, pendingSource: pending?.pendingSource ?? null })];
}
