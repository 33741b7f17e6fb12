import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import type { ToolInvocation } from '../../process/ToolInvocation.js';
import type { ServerInfo } from './server.js';

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

/** 'sql': text a client replays (MySQL family, may be compressed by us); 'custom': pg_dump -Fc, compressed itself. */
export type DumpFormat = 'sql' | 'custom';

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
  locate(server: ServerInfo, env?: NodeJS.ProcessEnv, search?: DumpToolSearch): DumpToolCheck;
  /** The tool that reads this engine's dumps back: mariadb/mysql, pg_restore (next to pg_dump when it can). */
  locateRestore(server: ServerInfo, env?: NodeJS.ProcessEnv, search?: DumpToolSearch): DumpToolCheck;
  /**
   * Runs the located tool against the server in a way that reads catalogs only and writes nothing, so preflight
   * learns what the backup would meet (a binary that is not the version it claims, a refused server) before
   * anything changes. Absent where --version and SQL checks already tell everything.
   */
  probe?(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, env?: NodeJS.ProcessEnv): Promise<DumpToolCheck>;
  /** Dumps `spec.database` to standard output, consistently and without locking, routines/triggers/events included. */
  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo): ToolInvocation;
  /** Whether the last bytes of an (uncompressed) dump prove the tool finished it; true when the format cannot tell. */
  dumpCompleted(tail: string): boolean;
  /** A reader of the (decompressed) dump text that a restore checks first; absent for archives a client does not parse. */
  scanner?(): DumpScanner;
  /** Reads a finished archive's table of contents (pg_restore --list); undefined when the format has none. */
  listInvocation(tool: DumpToolCheck, file: string): ToolInvocation | undefined;
  /**
   * Restores into `spec.database`. `stdin` says whether the (decompressed) dump is fed on standard input (SQL) or
   * the tool opens `file` itself (custom archive). `replace` lets it drop what is already there. `jobs` > 1: parallel
   * sessions instead of one transaction (custom archives only).
   */
  restoreInvocation(spec: ConnectionSpec, tool: DumpToolCheck, file: string, options: { replace: boolean; jobs?: number }):
    { invocation: ToolInvocation; stdin: boolean };
}
