/** A privilege, by MySQL's name; PostgreSQL reads them as described on PrivilegeNeed. */
export type PrivilegeName = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'CREATE' | 'DROP' | 'ALTER' | 'INDEX' | 'REFERENCES'
  | 'CREATE ROUTINE' | 'ALTER ROUTINE';

/**
 * What one part of a plan will do to the connected database, as privileges. MySQL/MariaDB check them in SHOW GRANTS
 * (global, database and table grants). PostgreSQL has owners instead: ALTER, INDEX and DROP on a table mean owning it
 * (or being a member of its owner), CREATE and CREATE ROUTINE mean CREATE on the current schema, the others are table
 * privileges.
 */
export interface PrivilegeNeed {
  privileges: PrivilegeName[];
  /** The existing tables the statements touch (ones that do not exist are skipped); absent: the database as a whole. */
  tables?: string[];
  /** A stored function the plan drops: MySQL ALTER ROUTINE on it (its creator has it); PostgreSQL owning it. */
  routine?: { name: string; signature?: string };
  /** What needs it, for the message: "the repair's ALTER TABLEs", "d59cbbef95eb's CREATE FUNCTION". */
  why: string;
}

/** One thing the connection's user lacks, and how to give it. */
export interface PrivilegeGap {
  /** What is missing: "ALTER, REFERENCES on airflow_db", "ownership of public.task_instance (owner postgres)". */
  missing: string;
  /** Which needs want it. */
  why: string[];
  /** The statement(s) that give it, for an administrator (or the object's owner) to run. */
  grant: string;
  /** false when the check cannot be sure (the user has roles, whose grants SHOW GRANTS does not expand): warn, not block. */
  certain: boolean;
}
