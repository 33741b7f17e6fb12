import semver from 'semver';
import { describeRevision, findRevision } from '../src/config/airflowRevisions.js';
import { UPGRADE_NOTES, UpgradeNote } from '../src/config/upgradeNotes.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'versions';

/**
 * Where the databases are, where the installed migrators can take them, what is pending, and which breaking changes
 * lie between. An explicit --to the installed distribution cannot reach, a downgrade, no migrator to run, and --force
 * across 1.11 without `recover` are blocks: up checks them before it takes the lock.
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
  if (current && om.target && semver.lt(om.target, current)) {
    const what = requested ? `--to ${requested}` : `the distribution's ${om.target}`;
    findings.push(finding(GATE, 'openmetadata', 'block', `${what} is lower than the database's ${current}: a downgrade`,
      `Migrations only go forward: restore a backup taken at ${om.target} instead (om-migrate restore), or install a newer distribution.`, data));
  }
  const force = forceFinding(ctx, current);
  if (force) findings.push(force);

  const pending = om.pending === undefined ? 'what is pending is the migrator\'s to decide (no distribution to read)'
    : om.pending.length === 0 ? 'nothing pending' : `${om.pending.length} version(s) pending (${om.pending[0]} … ${om.pending[om.pending.length - 1]})`;
  const where = current === undefined ? `fresh install (${facts.tableExists ? 'SERVER_CHANGE_LOG is empty' : 'no SERVER_CHANGE_LOG table'})`
    : `OpenMetadata ${current}`;
  findings.push(finding(GATE, 'openmetadata', 'ok', `${where} → ${om.expected ?? om.target ?? 'the release installed'}: ${pending}`, undefined, data));

  if (current && om.target && semver.gt(om.target, current)) {
    const crossed = UPGRADE_NOTES.filter((n) => semver.gt(n.version, current) && semver.lte(n.version, om.target!));
    findings.push(...crossed.map((note) => noteFinding(note, ctx)).filter((f): f is Finding => f !== undefined));
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
 * A breaking change of a crossed release (src/config/upgradeNotes.ts, from OpenMetadata's upgrade pages): a warning
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
  if (note.when === 'after') return finding(GATE, target, 'ok', `after the upgrade (${note.version}): ${note.title}`, note.action, data);
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
  const known = findRevision(revision);
  return [finding(GATE, 'airflow', known ? 'ok' : 'warn', `Airflow at ${describeRevision(revision)}${what}`,
    known ? undefined : 'Check that this is an Airflow metadata database; om-migrate will not repair an unknown revision.',
    { revision, chain: known?.chain ?? null, pending: pending?.pending ?? null, pendingSource: pending?.pendingSource ?? null })];
}
