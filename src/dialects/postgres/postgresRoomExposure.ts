import type { Knex } from 'knex';
import { OWN_SCHEMA } from '../tables.js';
import { JOURNAL_TABLE } from '../stores/JournalTable.js';
import type { RoomExposure, RoomProblem } from '../types.js';
import { quoteIdent } from './PostgresParameterReader.js';
import { rows } from './rows.js';

/**
 * What an application role could shape of the admin's room on PostgreSQL, asked through the admin's own session (the
 * schema om_migrate lives in the admin's database, whose catalog the application's connection does not see). Every
 * check counts the roles the application's login role is a member of (pg_has_role … 'MEMBER': what SET ROLE would give
 * it) and PUBLIC:
 * - the database the admin's session sits in: its owner sets search_path, role and other settings for every session
 *   there (ALTER DATABASE … SET), so it must not be the application's;
 * - membership of the admin's role, or superuser: the application is then as privileged as the admin;
 * - CREATE on the schema om_migrate, or ownership of it or of the journal table, or any write privilege on the table
 *   (TRIGGER and REFERENCES included, and column privileges): it could then decide what the admin puts back.
 */
export async function postgresRoomExposure(admin: Knex, app: Knex): Promise<RoomExposure> {
  const [{ role }] = rows<{ role: string }>(await app.raw('SELECT pg_catalog.session_user() AS role'));
  const problems: RoomProblem[] = [];
  const [room] = rows<{ db: string; owner: string; owns_db: boolean; superuser: boolean; admin_member: boolean; admin: string }>(await admin.raw(
    `SELECT d.datname AS db, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
            pg_catalog.pg_has_role(?, d.datdba, 'MEMBER') AS owns_db,
            COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = ?), false) AS superuser,
            pg_catalog.pg_has_role(?, pg_catalog.current_user(), 'MEMBER') AS admin_member,
            pg_catalog.current_user() AS admin
       FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`, [role, role, role]));
  if (room.owns_db) {
    problems.push({
      problem: `the admin connection's database ${room.db} is owned by ${room.owner}, and ${role} is (a member of) it: its owner sets `
        + 'search_path, role and other settings for every session there, the admin\'s included',
      fix: `Name a database ${role} does not own in the admin URL (postgres), or leave the database out of it`,
    });
  }
  const [schema] = rows<{ oid: number; owner: string; owns: boolean; create_via: string | null }>(await admin.raw(
    `SELECT n.oid, pg_catalog.pg_get_userbyid(n.nspowner) AS owner, pg_catalog.pg_has_role(?, n.nspowner, 'MEMBER') AS owns,
            (SELECT pg_catalog.string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, ', ')
               FROM pg_catalog.aclexplode(n.nspacl) a
              WHERE a.privilege_type = 'CREATE' AND (a.grantee = 0 OR pg_catalog.pg_has_role(?, a.grantee, 'MEMBER'))) AS create_via
       FROM pg_catalog.pg_namespace n WHERE n.nspname = ?`, [role, role, OWN_SCHEMA]));
  if (schema?.owns) {
    problems.push({
      problem: `the schema ${OWN_SCHEMA} in ${room.db}, where om-migrate journals the admin's changes, is owned by ${schema.owner}, and ${role} is (a member of) it`,
      fix: `DROP SCHEMA ${OWN_SCHEMA} CASCADE; (om-migrate creates it again as the admin) and find out who created it`,
    });
  } else if (schema?.create_via) {
    problems.push({
      problem: `${role} may create objects in the schema ${OWN_SCHEMA} in ${room.db} (granted to ${schema.create_via}), where om-migrate journals the admin's changes`,
      fix: `REVOKE CREATE ON SCHEMA ${OWN_SCHEMA} FROM ${schema.create_via};`,
    });
  }
  if (schema) {
    const [table] = rows<{ owner: string; owns: boolean; writes: boolean; columns: boolean; via: string | null }>(await admin.raw(
      `SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.pg_has_role(?, c.relowner, 'MEMBER') AS owns,
              pg_catalog.has_table_privilege(?, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES') AS writes,
              pg_catalog.has_any_column_privilege(?, c.oid, 'INSERT, UPDATE, REFERENCES') AS columns,
              (SELECT pg_catalog.string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, ', ')
                 FROM pg_catalog.aclexplode(c.relacl) a
                WHERE a.privilege_type <> 'SELECT' AND (a.grantee = 0 OR pg_catalog.pg_has_role(?, a.grantee, 'MEMBER'))) AS via
         FROM pg_catalog.pg_class c WHERE c.relnamespace = ? AND c.relname = ?`, [role, role, role, role, schema.oid, JOURNAL_TABLE]));
    const name = `${OWN_SCHEMA}.${JOURNAL_TABLE}`;
    if (table?.owns) {
      problems.push({
        problem: `${name} is owned by ${table.owner}, and ${role} is (a member of) it`,
        fix: `DROP TABLE ${name}; (om-migrate creates it again as the admin) and find out who created it`,
      });
    } else if (table && (table.writes || table.columns)) {
      problems.push({
        problem: `${role} may write ${name}${table.via ? ` (granted to ${table.via})` : ''}, the journal the admin puts parameters back from`,
        fix: `REVOKE ALL ON ${name} FROM ${table.via ?? quoteIdent(role)}; GRANT SELECT only, if anything`,
      });
    }
  }
  return { account: role, privileged: room.superuser || room.admin_member, problems };
}
