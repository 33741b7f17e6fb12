import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import type { ToolInvocation } from '../../process/ToolInvocation.js';
import type { Dialect } from './Dialect.js';
import type { ServerInfo } from './server.js';
import type { Environment } from '../../process/childEnv.js';

/** A dump tool found on PATH, and whether it can dump this server. */
export interface DumpToolCheck {
  /** "mariadb-dump", "mysqldump", "pg_dump" */
  name: string;
  path: string | undefined;
  version: string | undefined;
  /** Why it cannot be used (missing, too old for the server); undefined when it can. */
  problem: string | undefined;
  fix: string | undefined;
  /** Usable, with a consequence worth saying (another family's tool than the server's, say). */
  warning?: string;
}

/** Something the dump would fail on (block) or silently leave out (warn) for lack of a privilege, and its GRANT. */
export interface DumpPrivilegeProblem {
  severity: 'block' | 'warn';
  summary: string;
  fix: string;
}

/** Where to look for a client tool besides PATH, and what it must be able to read. */
export interface DumpToolSearch {
  /** --pg-bin-dir / OM_MIGRATE_PG_BIN_DIR: a directory of PostgreSQL client tools, preferred when they qualify. */
  pgBinDir?: string;
  /** The --version line of the tool that wrote the archive to restore (its manifest): pg_restore must be as new. */
  archiveToolVersion?: string;
}

/**
 * 'sql': text a client replays (MySQL family, may be compressed by us); 'custom': pg_dump -Fc, compressed itself.
 * The parallel formats (--jobs N) are directories: 'directory' is pg_dump -Fd's; 'sql-files' is the MySQL family's,
 * one SQL file per group of tables plus one of views, routines and events, every file a part of the same snapshot.
 */
export type DumpFormat = 'sql' | 'custom' | 'directory' | 'sql-files';

/** A base table of the database, as the parallel MySQL dump shares the tables out among its sessions. */
export interface TableToDump {
  name: string;
  /** What the server estimates the table's rows take (information_schema DATA_LENGTH): the work it stands for. */
  bytes: number;
  /** InnoDB: a consistent snapshot covers it. Anything else is read as it is when the dump reaches it. */
  transactional: boolean;
}

/**
 * Writes stopped on every base table of the database (LOCK TABLES … READ, from a session of its own), so that dump
 * sessions started while it is held all see the same committed data; released once each session has its snapshot.
 */
export interface WriteFreeze {
  tables: TableToDump[];
  views: string[];
  release(): Promise<void>;
}

/** How an engine's dump runs in N sessions at once (--jobs N). Every flag lives here, as for the single-file dump. */
export type ParallelDumpTooling =
  | {
    format: 'directory';
    /** pg_dump --format=directory --jobs=N into `dir`, which exists, is empty and is ours (0700). */
    dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, dir: string, jobs: number): ToolInvocation;
  }
  | {
    format: 'sql-files';
    /**
     * Stops writes on every base table through `session` (a connection of its own, not the run's pinned one) and lists
     * what is to be dumped. Throws BACKUP_FAILED when the lock cannot be had (privilege, a write transaction that holds
     * a table longer than `lockWaitSeconds`).
     */
    freezeWrites(session: Dialect, options: { lockWaitSeconds: number }): Promise<WriteFreeze>;
    /** One session: these tables' structure, rows and triggers, in one consistent snapshot of its own. */
    tablesInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, tables: string[]): ToolInvocation;
    /** The views, routines and events of the database: no rows; restored after every table file. */
    objectsInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, views: string[]): ToolInvocation;
    /** Whether a line the tool printed on its standard error proves its snapshot is taken (it is reading tables). */
    snapshotTaken(line: string): boolean;
  };

/**
 * Reads a dump's text, chunk by chunk, as the restore client will, and names what a dump of one database by the
 * engine's own tool never holds (a client command, a statement that leaves the database): one line each, at most a few.
 */
export interface DumpScanner {
  push(chunk: Buffer): void;
  end(): string[];
}

/** The stock dump and restore tools of an engine. Every dump and restore flag lives behind this. */
export interface DumpTooling {
  readonly format: DumpFormat;
  locate(server: ServerInfo, env: Environment, search?: DumpToolSearch): DumpToolCheck;
  /** The tool that reads this engine's dumps back: mariadb/mysql, pg_restore (next to pg_dump when it can). */
  locateRestore(server: ServerInfo, env: Environment, search?: DumpToolSearch): DumpToolCheck;
  /**
   * Runs the located tool against the server in a way that reads catalogs only and writes nothing, so preflight
   * learns what the backup would meet (a binary that is not the version it claims, a refused server) before
   * anything changes. Absent where --version and SQL checks already tell everything.
   */
  probe?(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, env: Environment): Promise<DumpToolCheck>;
  /** Dumps `spec.database` to standard output, consistently and without locking, routines/triggers/events included. */
  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo): ToolInvocation;
  /** The same dump in N sessions at once (--jobs N), into a directory of files. */
  readonly parallel: ParallelDumpTooling;
  /** Whether the last bytes of an (uncompressed) dump prove the tool finished it; true when the format cannot tell. */
  dumpCompleted(tail: string): boolean;
  /** A reader of the (decompressed) dump text that a restore checks first; absent for archives a client does not parse. */
  scanner?(): DumpScanner;
  /** Reads a finished archive's table of contents (pg_restore --list); undefined when the format has none. */
  listInvocation(tool: DumpToolCheck, file: string): ToolInvocation | undefined;
  /**
   * Restores into `spec.database`. `stdin` says whether the (decompressed) dump is fed on standard input (SQL) or
   * the tool opens `file` itself (custom archive). `replace` lets it drop what is already there. `jobs` > 1: parallel
   * sessions instead of one transaction (PostgreSQL archives only; the MySQL family's parallel backups run one client
   * per file, each with jobs 1).
   */
  restoreInvocation(spec: ConnectionSpec, tool: DumpToolCheck, file: string, options: { replace: boolean; jobs?: number }):
    { invocation: ToolInvocation; stdin: boolean };
}
