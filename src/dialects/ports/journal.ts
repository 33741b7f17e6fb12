import type { ParameterSetting } from './params.js';

/** The state of one journaled parameter change. */
export type JournalStatus =
  /** Written before the change; the change may or may not have reached the server. */
  | 'pending'
  | 'applied'
  /** Restored and read back. */
  | 'reverted'
  /** The server refused the change: nothing changed. */
  | 'refused'
  /** Not put back because another run still needs the value; a later run or revert-params puts it back. */
  | 'deferred';

/** Which connection made a change, and so the only one that may put it back. */
export type JournalVia = 'admin' | 'application';

/**
 * One row of om_migrate_journal: a parameter change as data (ParameterSetting), written before it is made. Where it is
 * kept follows the privilege that made it: a change made through the admin connection is journaled where only that
 * connection can write (a schema of om-migrate's own, owned by the admin), so whoever can write the application
 * database cannot choose what the admin "puts back".
 */
export interface JournalEntry extends ParameterSetting {
  id: string;
  runId: string;
  /** The database the change was made for (the target's). */
  database: string;
  /** ParameterReader.serverIdentity() of the server changed. */
  server: string;
  via: JournalVia;
  status: JournalStatus;
  /** Who made it: "om-migrate up pid=… host=… since=…". */
  holder: string;
  createdAt: string;
  updatedAt: string;
  note: string | null;
}

/** Where the journal lives: a table (in the application database, or the admin's own schema) or a local file. */
export interface JournalStore {
  /** "table om_migrate_journal in db", "table om_migrate.om_migrate_journal", "file /root/.om-migrate/…": for messages. */
  readonly location: string;
  /** Creates the table if needed; throws when it cannot. */
  ensure(): Promise<void>;
  insert(entry: JournalEntry): Promise<void>;
  setStatus(id: string, status: JournalStatus, note?: string | null): Promise<void>;
  /** Entries not yet put back (pending, applied, deferred), oldest first. Empty when there is no journal yet. */
  unreverted(): Promise<JournalEntry[]>;
  /** Every entry of one run, oldest first. */
  ofRun(runId: string): Promise<JournalEntry[]>;
}
