import type { AirflowDriverReport } from '../src/core/PlanInput.js';
import { finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'airflow-driver';

/** OpenMetadata's 1.6.4 upgrade note (../shared/seeds/upgrade-prerequisites-1.6.md, "1.6.4"; src/openmetadata/upgradeNotes.ts). */
const NOTE = 'OpenMetadata 1.6.4 upgrade notes: "there\'s an ongoing issue with Airflow migrations and the pymysql driver … make sure [DB_SCHEME] now is set to mysql+mysqldb"';

/**
 * CLIENT.MULTI_STATEMENTS | CLIENT.MULTI_RESULTS. SQLAlchemy's MySQL dialects read `client_flag` from the URL as an int
 * and add FOUND_ROWS to it; both mysqlclient 1.4.6 and PyMySQL 1.0.2 then run `DROP …; CREATE …` as two statements
 * (observed, docs/facts/airflow.md "Drivers and URLs").
 */
const MULTI_FLAGS = 196608;

/**
 * d59cbbef95eb sends `DROP FUNCTION …; CREATE FUNCTION …` as one op.execute. Only a connection with multi-statements
 * on runs that as two statements; without it the server sees one statement and answers 1064, after step 1 committed
 * (docs/facts/airflow.md). The URL does not tell: PyMySQL never sets the flag, mysqlclient 2.x does, Debian's 1.4.6
 * does not with MariaDB Connector/C, and a URL's client_flag can set it for any of them. So the driver is asked, in
 * the migrator's own interpreter and environment (src/plan/airflowDriverProbe.ts); only when it cannot be asked does
 * the URL decide, with a warning. No server setting changes the answer, so a driver without it blocks; so does a
 * driver that reaches another server than om-migrate checked.
 */
export const airflowDriverGate: Gate = {
  id: GATE,
  title: 'Airflow database driver',
  async check(ctx: GateContext): Promise<Finding[]> {
    const spec = ctx.config.airflow;
    const state = ctx.input.airflow?.state;
    if (!spec || spec.engine !== 'mysql' || !state) return [];
    const ahead = state.kind === 'healthy-before' || state.kind === 'half-applied';
    const probe = ctx.input.airflow?.driver;
    if (probe?.asked) {
      const target = ctx.targets.find((t) => t.role === 'airflow');
      const mine = target ? await target.dialect.params.serverIdentity() : undefined;
      return judgeReport(probe.report, ahead, mine);
    }
    return judgeUrl(spec.driver ?? 'mysqldb', spec.params, ahead, probe?.why);
  },
};

function describe(r: AirflowDriverReport): string {
  const library = r.clientLibrary ? `, client library ${r.clientLibrary}` : '';
  return `${r.driver} ${r.driverVersion}${library}, as ${r.python} connects through ${r.via}`;
}

function judgeReport(r: AirflowDriverReport, ahead: boolean, mine: string | undefined): Finding[] {
  const data = { asked: true, ...r, migrationAhead: ahead, note: '1.6.4/airflow-mysqldb-driver' };
  const findings: Finding[] = [];
  if (mine !== undefined && r.server !== mine) {
    findings.push(finding(GATE, 'airflow', 'block',
      `Airflow's driver (${describe(r)}) reaches ${r.server}, but om-migrate checked and would back up ${mine}`,
      'Write the Airflow URL so that it names one server for every client: a TCP host (127.0.0.1, not localhost, for mysqlclient), or ?unix_socket= with the socket path.',
      { ...data, omMigrateServer: mine }));
  }
  if (r.multiStatements) {
    findings.push(finding(GATE, 'airflow', 'ok', `Airflow's driver runs multi-statements (${describe(r)})`, undefined, data));
    return findings;
  }
  const fix = `Add client_flag=${MULTI_FLAGS} (MULTI_STATEMENTS | MULTI_RESULTS) to the Airflow URL's query (DB_PROPERTIES=?client_flag=${MULTI_FLAGS} `
    + 'for the ingestion container), or install mysqlclient 2.x in Airflow\'s environment (pip install \'mysqlclient>=2\'), whose default is on; '
    + `${r.driver === 'pymysql' ? `or use mysql+mysqldb (${NOTE})` : 'Debian\'s python3-mysqldb 1.4.6 turns it on only for client libraries reporting 4.1 or later, and MariaDB Connector/C reports 3.x'}.`;
  const problem = `Airflow's driver runs no multi-statements (${describe(r)}: ${r.multiStatementsError ?? 'refused'})`;
  findings.push(ahead
    ? finding(GATE, 'airflow', 'block', `${problem}: Airflow's d59cbbef95eb would fail with 1064 at its DROP/CREATE FUNCTION pair, after adding task_instance.id, at every attempt`, fix, data)
    : finding(GATE, 'airflow', 'warn', `${problem}; d59cbbef95eb is not ahead, but Airflow's migrations assume a driver that runs them`, fix, data));
  return findings;
}

/** The URL alone, when the driver could not be asked: PyMySQL and multi_statements=false are known to fail. */
function judgeUrl(driver: string, params: Record<string, string>, ahead: boolean, notAsked: string | undefined): Finding[] {
  const multiOff = Object.entries(params).some(([k, v]) => k.toLowerCase() === 'multi_statements' && /^(0|false|no|off)$/i.test(v));
  const flagged = Object.entries(params).some(([k, v]) => k.toLowerCase() === 'client_flag' && (Number(v) & 65536) !== 0);
  const data = { asked: false, notAsked: notAsked ?? null, driver, multiStatements: flagged || (!multiOff && driver === 'mysqldb'), migrationAhead: ahead,
    note: '1.6.4/airflow-mysqldb-driver' };
  const fix = `Use mysql+mysqldb with mysqlclient 2.x, or add client_flag=${MULTI_FLAGS} to the URL's query (DB_SCHEME=mysql+mysqldb for the ingestion container, `
    + `or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=mysql+mysqldb://…)${multiOff ? ' without multi_statements=false' : ''}. Source: ${NOTE}.`;
  let problem: string | undefined;
  if (flagged) problem = undefined;
  else if (driver === 'pymysql') problem = 'the Airflow URL uses mysql+pymysql, which sends no multi-statement flag';
  else if (multiOff) problem = 'the Airflow URL turns multi-statements off (multi_statements=false)';
  else if (driver !== 'mysqldb') problem = `the Airflow URL uses mysql+${driver}, a driver om-migrate has not seen run Airflow's migrations`;
  const unasked = notAsked ? ` (Airflow's driver itself was not asked: ${notAsked})` : '';
  if (!problem) {
    // mysqlclient runs multi-statements from 2.x on; Debian's 1.4.6 does not (MariaDB Connector/C reports 3.x).
    return [finding(GATE, 'airflow', ahead && !flagged ? 'warn' : 'ok',
      `the Airflow URL uses ${flagged ? `client_flag with MULTI_STATEMENTS` : 'mysqlclient (mysql+mysqldb)'}${unasked}`
      + `${ahead && !flagged ? ': d59cbbef95eb needs multi-statements, which mysqlclient sends from 2.x on, not Debian\'s 1.4.6' : ''}`,
      ahead && !flagged ? `Make sure Airflow's environment has mysqlclient 2.x, or add client_flag=${MULTI_FLAGS} to the URL's query.` : undefined, data)];
  }
  const known = driver === 'pymysql' || multiOff;
  if (!ahead) {
    return [finding(GATE, 'airflow', 'warn', `${problem}; d59cbbef95eb is not ahead, but Airflow's migrations assume mysqlclient`, fix, data)];
  }
  return [finding(GATE, 'airflow', known ? 'block' : 'warn',
    `${problem}: Airflow's d59cbbef95eb would fail with 1064 at its DROP/CREATE FUNCTION pair, after adding task_instance.id${unasked}`, fix, data)];
}
