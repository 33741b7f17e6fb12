import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { tlsRequested } from '../../config/ConnectionSpec.js';
import { findExecutable, toolVersionText } from '../../process/findExecutable.js';
import type { DumpToolCheck, DumpTooling, ParallelDumpTooling, ServerInfo, ToolInvocation } from '../types.js';
import { writeDefaultsFile } from './mysqlDefaultsFile.js';
import { freezeWrites } from './mysqlWriteFreeze.js';
import { MysqlDumpScanner } from './MysqlDumpScanner.js';
import type { Environment } from '../../process/childEnv.js';

/** The largest packet both families accept: rows bigger than the 16–24 MB client default must still dump and load. */
const MAX_PACKET = '--max-allowed-packet=1G';
const DEFAULTS_PLACEHOLDER = '<0600 defaults file, removed after the run>';

/** mariadb-dump / mysqldump and the mariadb / mysql client: the server's own family's tool first, the other as a fallback. */
export class MysqlDumpTool implements DumpTooling {
  readonly format = 'sql' as const;

  locate(server: ServerInfo, env: Environment): DumpToolCheck {
    const names = server.flavour === 'mariadb' ? ['mariadb-dump', 'mysqldump'] : ['mysqldump', 'mariadb-dump'];
    const tool = locateFirst(names, env);
    if (tool.problem) return tool;
    // The name says little: Debian's mysqldump is a symlink to mariadb-dump. The --version line says whose it is.
    const mariadbTool = /mariadb/i.test(tool.version ?? '');
    if (server.flavour === 'mysql' && mariadbTool) {
      return {
        ...tool,
        warning: `${tool.name} is MariaDB's (${tool.version}) and the server is MySQL ${server.version}: its dump starts with MariaDB's `
          + '"sandbox mode" line (MDEV-21178), which MySQL\'s own mysql client rejects, so only a MariaDB client restores it '
          + '(om-migrate restore picks one); it knows no --set-gtid-purged, so no GTID_PURGED is written either',
        fix: 'Install MySQL\'s client tools (mysql-client 8.0 or newer) first on PATH for a dump MySQL\'s own client reads.',
      };
    }
    if (server.flavour === 'mariadb' && !mariadbTool) {
      return {
        ...tool,
        warning: `${tool.name} is MySQL's (${tool.version}) and the server is MariaDB ${server.version}: om-migrate passes it `
          + '--column-statistics=0 and --set-gtid-purged=OFF, which MariaDB lacks the tables and variables for',
        fix: 'Install MariaDB\'s client (mariadb-client) to dump with the server\'s own tool.',
      };
    }
    return tool;
  }

  locateRestore(server: ServerInfo, env: Environment): DumpToolCheck {
    // A mariadb-dump file starts with MariaDB's "sandbox mode" line, which only MariaDB's client understands.
    const names = server.flavour === 'mariadb' ? ['mariadb', 'mysql'] : ['mysql', 'mariadb'];
    return locateFirst(names, env);
  }

  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo): ToolInvocation {
    const oracleTool = !/mariadb/i.test(tool.version ?? tool.name);
    return invocation(tool, spec, dumpFlags(tool, server, ['--routines', '--triggers', '--events']), oracleTool);
  }

  /**
   * --jobs N: the same tool and flags in N sessions, each dumping a share of the tables into its own file, started
   * while one more session holds every table against writes (docs/parallel-backup.md explains why not mydumper).
   */
  readonly parallel: ParallelDumpTooling = {
    format: 'sql-files',
    freezeWrites: (session, options) => freezeWrites(session.knex, session.spec, options.lockWaitSeconds),
    tablesInvocation: (spec, tool, server, tables) => {
      const oracleTool = !/mariadb/i.test(tool.version ?? tool.name);
      // --verbose: the tool says on standard error, unbuffered, when it starts reading tables, which is after its
      // START TRANSACTION WITH CONSISTENT SNAPSHOT (snapshotTaken); routines and events go to the objects file.
      return invocation(tool, spec, [...dumpFlags(tool, server, ['--triggers', '--skip-routines', '--skip-events']), '--verbose'], oracleTool, tables);
    },
    objectsInvocation: (spec, tool, server, views) => {
      const oracleTool = !/mariadb/i.test(tool.version ?? tool.name);
      // No rows and no triggers (they are in the table files). With no view named, the tool would take every table:
      // --no-create-info then leaves only the routines and events.
      const flags = [...dumpFlags(tool, server, ['--routines', '--events', '--skip-triggers']), '--no-data', ...(views.length === 0 ? ['--no-create-info'] : [])];
      return invocation(tool, spec, flags, oracleTool, views);
    },
    // Both families print these after the transaction has started (mysqldump.c: start_transaction() runs before any
    // table is dumped, and each table begins with this message); a session that exits early needs no snapshot.
    snapshotTaken: (line) => /^-- (Setting savepoint|Retrieving table structure for table)\b/.test(line),
  };

  dumpCompleted(tail: string): boolean {
    return /-- Dump completed[^\n]*\n?\s*$/.test(tail);
  }

  listInvocation(): undefined {
    return undefined;
  }

  scanner(): MysqlDumpScanner {
    return new MysqlDumpScanner();
  }

  restoreInvocation(spec: ConnectionSpec, tool: DumpToolCheck): { invocation: ToolInvocation; stdin: boolean } {
    // The dump drops each table before creating it, so replacing needs no extra flag. --binary-mode: the client runs
    // no client command of the dump's (\! and system run a shell as this user, \. reads a file, \u and connect switch
    // the database) but DELIMITER and \C — in MariaDB's client and MySQL's alike (client/mysql.cc, find_command), so a
    // dump without MariaDB's sandbox line (MySQL's mysqldump, an older mariadb-dump, an edited file) cannot run any.
    // What binary mode leaves to the server (a USE statement) the restore's scan refuses before the client starts;
    // --one-database would not stop it: in binary mode the client no longer follows USE (tried on MariaDB 10.11).
    const oracleTool = !/mariadb/i.test(tool.version ?? tool.name);
    const flags = ['--default-character-set=utf8mb4', MAX_PACKET, '--batch', '--binary-mode'];
    return { invocation: invocation(tool, spec, flags, oracleTool), stdin: true };
  }
}

/**
 * What every dump of the family gets, whole or in parts; `objects` says which of routines, triggers and events.
 */
function dumpFlags(tool: DumpToolCheck, server: ServerInfo, objects: string[]): string[] {
  const oracleTool = !/mariadb/i.test(tool.version ?? tool.name);
  return [
    // A consistent InnoDB snapshot without locking tables, with everything that is not a table.
    '--single-transaction', ...objects, '--hex-blob',
    // MySQL 8.0.21+ asks for PROCESS to dump tablespaces, which OpenMetadata never creates.
    '--no-tablespaces',
    '--default-character-set=utf8mb4',
    MAX_PACKET,
    // MySQL's mysqldump defaults to --set-gtid-purged=AUTO, which writes SET @@GLOBAL.GTID_PURGED on a GTID server
    // (a restore elsewhere then fails or rewrites its GTID history) and, on a server without gtid_mode — MariaDB —
    // fails with 1193 "Unknown system variable 'GTID_MODE'". MariaDB's tool has no such option (unknown variable).
    ...(oracleTool ? ['--set-gtid-purged=OFF'] : []),
    // MySQL 8's mysqldump asks information_schema.COLUMN_STATISTICS, which MariaDB does not have.
    ...(oracleTool && server.flavour === 'mariadb' ? ['--column-statistics=0'] : []),
  ];
}

/**
 * Every value is attached to its option with `=`, and the database name comes after `--`: a database called `-x` or a
 * user called `--host=evil` stays a name (my_getopt stops reading options at `--`).
 */
function invocation(tool: DumpToolCheck, spec: ConnectionSpec, flags: string[], oracleTool: boolean, tables: string[] = []): ToolInvocation {
  const defaults = writeDefaultsFile(spec.password);
  const connection = [
    ...(spec.host.startsWith('/') ? [`--socket=${spec.host}`] : [`--host=${spec.host}`, `--port=${spec.port}`]),
    `--user=${spec.user}`,
    ...(tlsRequested(spec) ? [oracleTool ? '--ssl-mode=REQUIRED' : '--ssl'] : []),
  ];
  // --defaults-extra-file must come first, or the client rejects it.
  const head = defaults.path ? [`--defaults-extra-file=${defaults.path}`] : [];
  const args = [...head, ...connection, ...flags, '--', spec.database, ...tables];
  return {
    argv: [tool.path as string, ...args],
    env: {},
    display: [tool.name, ...args.map((a) => (defaults.path && a.includes(defaults.path) ? `--defaults-extra-file=${DEFAULTS_PLACEHOLDER}` : a))],
    dispose: defaults.dispose,
  };
}

function locateFirst(names: string[], env: Environment): DumpToolCheck {
  for (const name of names) {
    const path = findExecutable(name, env);
    if (!path) continue;
    const version = toolVersionText(path, env);
    if (!version) {
      return { name, path, version, problem: `${path} does not run (--version failed)`, fix: 'Reinstall the MySQL/MariaDB client tools.' };
    }
    return { name, path, version, problem: undefined, fix: undefined };
  }
  return {
    name: names[0],
    path: undefined,
    version: undefined,
    problem: `neither ${names.join(' nor ')} is on PATH`,
    fix: 'Install the client tools (Debian: apt-get install mariadb-client; MySQL: mysql-client) or add them to PATH.',
  };
}
