import type { Knex } from 'knex';
import type { DumpPrivilegeProblem, ServerInfo } from '../types.js';
import { grantsCover } from './grants.js';
import { rows } from './rows.js';

/**
 * What mariadb-dump / mysqldump --routines --triggers --events needs beyond SELECT, read before the backup instead
 * of learned from it. Tried on MariaDB 10.11 with a user holding everything on the database but nothing global:
 * - a routine whose DEFINER is another user: SHOW CREATE PROCEDURE gives NULL, and the dump stops with exit 2
 *   "has insufficient privileges to SHOW CREATE PROCEDURE"; information_schema.ROUTINES lists the routine with a NULL
 *   ROUTINE_DEFINITION, which is what is read here (MySQL 8 documents the same NULL for the same lack);
 * - no EVENT on the database: `SHOW EVENTS` is refused (1044) and the dump stops, events or not;
 * - no TRIGGER: the triggers are left out of the dump without a word (exit 0). They are invisible to such a user,
 *   so whether any exist cannot be told: a warning, not a block.
 */
export async function mysqlDumpPrivilegeProblems(knex: Knex, database: string, server: ServerInfo, jobs = 1): Promise<DumpPrivilegeProblem[]> {
  const problems: DumpPrivilegeProblem[] = [];
  const account = await currentAccount(knex);
  const db = quoteIdentifier(database);

  const hidden = rows<{ type: string; name: string; definer: string }>(await knex.raw(
    `SELECT ROUTINE_TYPE AS type, ROUTINE_NAME AS name, DEFINER AS definer FROM information_schema.ROUTINES
      WHERE ROUTINE_SCHEMA = ? AND ROUTINE_DEFINITION IS NULL ORDER BY ROUTINE_NAME`, [database]));
  if (hidden.length > 0) {
    const list = hidden.slice(0, 5).map((r) => `${r.type.toLowerCase()} ${r.name} (definer ${r.definer})`).join(', ')
      + (hidden.length > 5 ? ` and ${hidden.length - 5} more` : '');
    problems.push({
      severity: 'block',
      summary: `${account} cannot read the body of ${hidden.length} routine(s) defined by another user, so the dump would stop: ${list}`,
      fix: `${routineGrant(server, db, account)}; or recreate the routines with DEFINER = ${account}. (The dump tool's --skip-routines would leave them out, and a restore would then lack them: om-migrate always dumps routines.)`,
    });
  }

  try {
    await knex.raw(`SHOW EVENTS FROM ${db}`);
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    // 1044 ER_DBACCESS_DENIED_ERROR (MariaDB, MySQL), 1142 / 1227 on some MySQL versions.
    if (errno !== 1044 && errno !== 1142 && errno !== 1227) throw error;
    problems.push({
      severity: 'block',
      summary: `${account} lacks the EVENT privilege on ${database}: the dump's --events would be refused ("SHOW EVENTS": error ${errno})`,
      fix: `GRANT EVENT ON ${db}.* TO ${account}; (the dump tool's --skip-events would leave scheduled events out of the backup; om-migrate always dumps them)`,
    });
  }

  const grants = rows<Record<string, string>>(await knex.raw('SHOW GRANTS')).map((r) => Object.values(r)[0]);
  // --jobs N: the parallel dump's sessions start under LOCK TABLES … READ of every table (mysqlWriteFreeze.ts).
  if (jobs > 1 && !grantsCover(grants, database, ['LOCK TABLES'])) {
    problems.push({
      severity: 'block',
      summary: `${account} has no LOCK TABLES privilege on ${database} in SHOW GRANTS: the parallel backup (--jobs ${jobs}) locks every table against writes while its sessions take their snapshots, and would stop before dumping anything`,
      fix: `GRANT LOCK TABLES ON ${db}.* TO ${account}; or back up with --jobs 1 (one session, one snapshot, no lock)`,
    });
  }
  if (!grantsCover(grants, database, ['TRIGGER'])) {
    problems.push({
      severity: 'warn',
      summary: `${account} has no TRIGGER privilege on ${database} in SHOW GRANTS: the dump tool leaves out, silently, every trigger it cannot see`,
      fix: `GRANT TRIGGER ON ${db}.* TO ${account}; (OpenMetadata and Airflow create no triggers; ignore this if nobody added one)`,
    });
  }
  return problems;
}

/** The GRANT that lets a non-definer read routine bodies, by family and version. */
function routineGrant(server: ServerInfo, db: string, account: string): string {
  if (server.flavour === 'mariadb') {
    // SHOW CREATE ROUTINE exists from MariaDB 11.3.0; before, reading mysql.proc is the documented way.
    return atLeast(server.version, [11, 3, 0])
      ? `GRANT SHOW CREATE ROUTINE ON ${db}.* TO ${account}`
      : `GRANT SELECT ON mysql.proc TO ${account}`;
  }
  // MySQL 8.0.20 added SHOW_ROUTINE (WL#9049) as the narrow alternative to global SELECT.
  return atLeast(server.version, [8, 0, 20]) ? `GRANT SHOW_ROUTINE ON *.* TO ${account}` : `GRANT SELECT ON *.* TO ${account}`;
}

export async function currentAccount(knex: Knex): Promise<string> {
  const [row] = rows<{ who: string }>(await knex.raw('SELECT CURRENT_USER() AS who'));
  const at = row.who.lastIndexOf('@');
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `${quote(row.who.slice(0, at))}@${quote(row.who.slice(at + 1))}`;
}

export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function atLeast(version: string, floor: [number, number, number]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i += 1) {
    if ((parts[i] ?? 0) !== floor[i]) return (parts[i] ?? 0) > floor[i];
  }
  return true;
}
