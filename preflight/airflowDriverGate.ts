import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'airflow-driver';

/** OpenMetadata's 1.6.4 upgrade note (../shared/seeds/upgrade-prerequisites-1.6.md, "1.6.4"; src/config/upgradeNotes.ts). */
const NOTE = 'OpenMetadata 1.6.4 upgrade notes: "there\'s an ongoing issue with Airflow migrations and the pymysql driver … make sure [DB_SCHEME] now is set to mysql+mysqldb"';

/**
 * d59cbbef95eb sends `DROP FUNCTION …; CREATE FUNCTION …` as one op.execute. Only a connection with multi-statements
 * on runs that as two statements; PyMySQL never sets the flag, and mysqlclient 2.x sets it unless told
 * `multi_statements=False`. Without it the server sees one statement and answers 1064, after step 1 committed
 * (docs/facts/airflow.md, observed with the stand-in under PyMySQL). No server setting changes that, so this blocks.
 */
export const airflowDriverGate: Gate = {
  id: GATE,
  title: 'Airflow database driver',
  async check(ctx: GateContext): Promise<Finding[]> {
    const spec = ctx.config.airflow;
    const state = ctx.input.airflow?.state;
    if (!spec || spec.engine !== 'mysql' || !state) return [];
    const driver = spec.driver ?? 'mysqldb';
    const multiOff = Object.entries(spec.params).some(([k, v]) => k.toLowerCase() === 'multi_statements' && /^(0|false|no|off)$/i.test(v));
    const ahead = state.kind === 'healthy-before' || state.kind === 'half-applied';
    const data = { driver, multiStatements: !multiOff && driver === 'mysqldb', migrationAhead: ahead, note: '1.6.4/airflow-mysqldb-driver' };
    const fix = `Use mysql+mysqldb (DB_SCHEME=mysql+mysqldb for the ingestion container, or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=mysql+mysqldb://…)`
      + `${multiOff ? ' without multi_statements=false' : ''}. Source: ${NOTE}.`;
    let problem: string | undefined;
    if (driver === 'pymysql') problem = 'the Airflow URL uses mysql+pymysql, which sends no multi-statement flag';
    else if (multiOff) problem = 'the Airflow URL turns multi-statements off (multi_statements=false)';
    else if (driver !== 'mysqldb') problem = `the Airflow URL uses mysql+${driver}, a driver om-migrate has not seen run Airflow's migrations`;
    if (!problem) return [finding(GATE, 'airflow', 'ok', 'the Airflow URL uses mysqlclient (mysql+mysqldb) with multi-statements', undefined, data)];
    const known = driver === 'pymysql' || multiOff;
    if (!ahead) {
      return [finding(GATE, 'airflow', 'warn', `${problem}; d59cbbef95eb is not ahead, but Airflow's migrations assume mysqlclient`, fix, data)];
    }
    return [finding(GATE, 'airflow', known ? 'block' : 'warn',
      `${problem}: Airflow's d59cbbef95eb would fail with 1064 at its DROP/CREATE FUNCTION pair, after adding task_instance.id`,
      fix, data)];
  },
};
