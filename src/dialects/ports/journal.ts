import type { ParameterChangePlan, ParameterScope } from './params.js';

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

/** One row of om_migrate_journal: a parameter change, written before it is made. */
export interface JournalEntry {
  id: string;
  runId: string;
  /** The database whose journal holds the entry (the target the change was made for). */
  database: string;
  /** ParameterReader.serverIdentity() of the server changed. */
  server: string;
  parameter: ParameterChangePlan['parameter'];
  scope: ParameterScope;
  object: string | null;
  /** The exact previous value; null when no setting existed at that scope. */
  previous: string | null;
  next: string;
  applySql: string[];
  revertSql: string[];
  status: JournalStatus;
  /** Who made it: "om-migrate run pid=… host=… since=…". */
  holder: string;
  createdAt: string;
  updatedAt: string;
  note: string | null;
}

/** Where the journal lives: a table in the target database (or a local file when the table cannot be written). */
export interface JournalStore {
  /** "table om_migrate_journal in db", "file /root/.om-migrate/…": for messages. */
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
