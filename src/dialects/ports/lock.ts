/** Whoever holds the run lock, as far as the server can tell. */
export interface LockHolder {
  connectionId: string;
  /** "om-migrate pid=123 host=web-1", from the program/application name when the server keeps it. */
  program: string | undefined;
  clientAddress: string | undefined;
  since: string | undefined;
  /** What that session is executing now, when the server shows it (PROCESSLIST INFO; pg_stat_activity, when active). */
  statement?: string;
  /** The statement an operator runs to end that session, and the lock with it: "KILL 42", "SELECT pg_terminate_backend(42)". */
  endSession: string;
}

export interface AdvisoryLock {
  readonly name: string;
  /** Waits up to timeoutMs (0: answers at once). true when this session now holds it. */
  tryAcquire(timeoutMs: number): Promise<boolean>;
  release(): Promise<void>;
  /** Read-only: who holds it now, or undefined when it is free. */
  holder(): Promise<LockHolder | undefined>;
  /**
   * Whether the session `connectionId` (the one that took it) still holds it, asked on the same pinned connection.
   * A connection the server dropped (wait_timeout, a restart, KILL) is silently replaced by the pool: the answer is
   * then false, never a stale true. Throws when the server cannot be asked at all.
   */
  heldBy(connectionId: string): Promise<boolean>;
}

/** The row a lock holder writes so that a contender can name it (MariaDB keeps no program names without performance_schema). */
export interface RunHolderRow {
  lockName: string;
  connectionId: string;
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  command: string;
  /** The process group of the migrator the run was running, and its host; undefined when none. */
  childPgid?: number;
  childHost?: string;
}

export interface RunRegistry {
  /** This session's id as the lock functions report it (CONNECTION_ID(), pg_backend_pid()). */
  connectionId(): Promise<string>;
  /** Records (replaces) the holder row of a lock; throws when the table cannot be written. */
  record(row: RunHolderRow): Promise<void>;
  /** Records the process group of the migrator the holder runs now (undefined: none). */
  recordChild(lockName: string, connectionId: string, child: { pgid: number; host: string } | undefined): Promise<void>;
  remove(lockName: string, connectionId: string): Promise<void>;
  /** The row of a lock as it is: the current holder's, or the one a killed holder left behind. */
  rowOf(lockName: string): Promise<RunHolderRow | undefined>;
  /** The holder row written by the session `connectionId` for `lockName`, if it wrote one. */
  find(lockName: string, connectionId: string): Promise<RunHolderRow | undefined>;
}
