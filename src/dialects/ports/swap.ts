/**
 * Swapping a restored copy in for a live database, through a connection allowed to (the admin's): restore-on-failure's
 * last, all-or-nothing move. MySQL family: every base table of both databases in one RENAME TABLE statement (atomic);
 * PostgreSQL: both databases renamed in one transaction, which the server refuses while any session uses either.
 */
export interface DatabaseSwap {
  /**
   * Whether this connection may swap `database` (read-only): MySQL ALTER, DROP, CREATE and INSERT on every database
   * (RENAME TABLE across databases); PostgreSQL a superuser, or CREATEDB and membership of the database's owner role.
   */
  canSwap(database: string): Promise<{ ok: boolean; summary: string }>;
  /** Whether a database of that name exists on the server. */
  exists(name: string): Promise<boolean>;
  /**
   * What a swap of this database would not carry: MySQL views, triggers, routines and events (RENAME TABLE moves base
   * tables only, and refuses a table with triggers across databases); nothing on PostgreSQL, which renames the whole
   * database. Each entry is "view v", "trigger t", … Empty when the swap carries everything.
   */
  notCarried(database: string): Promise<string[]>;
  /** Every session on either database (any user, this one's excepted): PostgreSQL cannot rename a database in use. */
  sessionsOn(databases: string[]): Promise<Array<{ id: string; user: string; database: string }>>;
  /**
   * Puts `restored` in the place of `live` and keeps `live`'s content as `kept`, in one step that either happens whole
   * or not at all. MySQL: creates `kept` (same character set) and moves every table; PostgreSQL: renames both
   * databases, after copying `live`'s owner and per-database settings onto `restored`.
   */
  swap(live: string, restored: string, kept: string): Promise<void>;
  /** Whether `kept` holds the swapped-out content (MySQL: it has tables; PostgreSQL: it exists). */
  holdsContent(name: string): Promise<boolean>;
}
