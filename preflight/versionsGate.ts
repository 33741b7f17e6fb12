import semver from 'semver';
import { describeRevision, findRevision } from '../src/config/airflowRevisions.js';
import { UPGRADE_NOTES, UpgradeNote } from '../src/config/upgradeNotes.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'versions';

/** Where the databases are, where --to takes them, and which breaking changes lie between. */
export const versionsGate: Gate = {
  id: GATE,
  title: 'Versions',
  async check(ctx: GateContext): Promise<Finding[]> {
    return [...openMetadataFindings(ctx), ...airflowFindings(ctx)];
  },
};

function openMetadataFindings(ctx: GateContext): Finding[] {
  const om = ctx.versions.openmetadata;
  if (!om) return [];
  const target = ctx.config.targetVersion;
  const current = om.current;
  if (current === undefined) {
    const what = om.tableExists ? 'SERVER_CHANGE_LOG is empty' : 'no SERVER_CHANGE_LOG table';
    return [finding(GATE, 'openmetadata', 'ok', `fresh install (${what})${target ? `: the migrator will create ${target}` : ''}`,
      undefined, { current: null, target: target ?? null })];
  }
  const data = { current, target: target ?? null };
  if (!target) {
    return [finding(GATE, 'openmetadata', 'ok', `OpenMetadata database at ${current}`, 'Pass --to VERSION to check an upgrade.', data)];
  }
  if (semver.lt(target, current)) {
    return [finding(GATE, 'openmetadata', 'block', `--to ${target} is lower than the database's ${current}: a downgrade`,
      `Migrations only go forward: restore a backup taken at ${target} instead (om-migrate restore).`, data)];
  }
  if (semver.eq(target, current)) {
    return [finding(GATE, 'openmetadata', 'ok', `already at ${current}: nothing to migrate`, undefined, data)];
  }
  const crossed = UPGRADE_NOTES.filter((n) => semver.gt(n.version, current) && semver.lte(n.version, target));
  return [
    finding(GATE, 'openmetadata', 'ok', `OpenMetadata ${current} → ${target}`, undefined,
      { ...data, breakingChanges: crossed.map((n) => n.version) }),
    ...crossed.map((note) => noteFinding(note, ctx)),
  ];
}

function noteFinding(note: UpgradeNote, ctx: GateContext): Finding {
  const data = { note: note.version, check: note.check ?? null };
  if (note.check === 'airflow-mysql-driver') {
    const airflow = ctx.config.airflow;
    if (airflow && airflow.engine === 'mysql' && airflow.driver && airflow.driver !== 'mysqldb') {
      return finding(GATE, 'airflow', 'warn', `${note.version}: ${note.title}; the Airflow URL uses mysql+${airflow.driver}`,
        'Set DB_SCHEME=mysql+mysqldb for the ingestion container (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=mysql+mysqldb://…).',
        { ...data, driver: airflow.driver });
    }
    if (airflow && airflow.engine === 'mysql') {
      return finding(GATE, 'airflow', 'ok', `${note.version}: ${note.title}; the Airflow URL's driver is ${airflow.driver ?? 'the default'}`,
        undefined, data);
    }
  }
  return finding(GATE, 'openmetadata', 'warn', `${note.version}: ${note.title}`, note.action, data);
}

function airflowFindings(ctx: GateContext): Finding[] {
  const airflow = ctx.versions.airflow;
  if (!airflow) return [];
  const { revision } = airflow;
  if (revision === undefined) {
    return [finding(GATE, 'airflow', 'ok', 'no alembic_version table: a fresh Airflow database', undefined, { revision: null })];
  }
  if (revision === null) {
    return [finding(GATE, 'airflow', 'warn', 'alembic_version is empty: Airflow cannot tell which migrations ran',
      'If the database holds Airflow tables, stamp the right revision (airflow db migrate will otherwise try to recreate them).',
      { revision: null })];
  }
  const known = findRevision(revision);
  return [finding(GATE, 'airflow', known ? 'ok' : 'warn', `Airflow at ${describeRevision(revision)}`,
    known ? undefined : 'Check that this is an Airflow metadata database; om-migrate will not repair an unknown revision.',
    { revision, chain: known?.chain ?? null })];
}
