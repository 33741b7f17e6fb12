/** Another session on the server, as the server shows it to this connection's user. */
export interface DatabaseSession {
  id: string;
  user: string;
  /** The client's host (and port, MySQL) as the server shows it; "local socket" for a Unix-socket client. */
  host: string | undefined;
  database: string | undefined;
  /** PostgreSQL: when the session began; MySQL: when its current state began (PROCESSLIST keeps no connection time). */
  since: string | undefined;
  /** Its state as the server names it: "idle", "active", "idle in transaction", "Sleep", "Query", … */
  state: string | undefined;
  /** What it runs, or (PostgreSQL, idle) what it ran last; cut to 200 characters. */
  statement: string | undefined;
  /** Its program or application name, when the server keeps one. */
  program: string | undefined;
}

/**
 * The sessions of a database user, for gates that need the application stopped (1.13.0's migration) and for whatever
 * must know who else is connected before it replaces a database. Never lists om-migrate's own sessions: this process's
 * connections, sessions that name themselves om-migrate (PostgreSQL application_name, MySQL 8 program_name) and
 * sessions waiting for om-migrate's run lock.
 */
export interface SessionLister {
  /** Other sessions of `user` connected to this connection's database. */
  othersOf(user: string): Promise<DatabaseSession[]>;
}
