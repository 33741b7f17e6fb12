import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { describeExit, spawnChild, succeeded } from '../../process/spawnChild.js';
import type { DumpToolCheck, DumpTooling, DumpToolSearch, ParallelDumpTooling, ServerInfo, ToolInvocation } from '../types.js';
import { locatePgRestoreFor, locatePgTool, parsePgToolVersion, type PgToolChoice, type PgToolSearch } from './pgToolDiscovery.js';
import { childEnvironment, type Environment } from '../../process/childEnv.js';

/** How long the preflight probe may take: it reads catalogs only, but a busy server can be slow to answer. */
const PROBE_TIMEOUT_MS = 120_000;

/**
 * pg_dump (at least the server's major version) and pg_restore, which reads its custom-format archives. Both are
 * chosen among every copy on this machine (pgToolDiscovery): the first on PATH is often Debian's 15 while the
 * server is 16 or 17.
 */
export class PostgresDumpTool implements DumpTooling {
  readonly format = 'custom' as const;

  locate(server: ServerInfo, env: Environment, search: DumpToolSearch = {}): DumpToolCheck {
    return asCheck(locatePgTool('pg_dump', serverMajor(server), pgSearch(env, search)));
  }

  locateRestore(server: ServerInfo, env: Environment, search: DumpToolSearch = {}): DumpToolCheck {
    const pg = pgSearch(env, search);
    const archiveMajor = parsePgToolVersion(search.archiveToolVersion)?.major;
    if (archiveMajor !== undefined) {
      // Restoring a file: it must read what that pg_dump wrote and load into this server.
      return asCheck(locatePgTool('pg_restore', serverMajor(server), pg, archiveMajor));
    }
    // Verifying what we are about to dump: the pg_restore of the same installation as the chosen pg_dump.
    const dump = locatePgTool('pg_dump', serverMajor(server), pg);
    return asCheck(dump.chosen ? locatePgRestoreFor(dump.chosen, serverMajor(server), pg) : locatePgTool('pg_restore', serverMajor(server), pg));
  }

  /**
   * `--version` is only what a file prints: a script, or a wrapper that runs another binary, may claim any version.
   * The probe runs the chosen pg_dump for real — schema only, every schema excluded, plain text to a pipe — so the
   * binary itself checks the server's version (and libpq the connection), and the header it writes names the version
   * that really ran. It takes no table lock and writes nothing.
   */
  async probe(spec: ConnectionSpec, tool: DumpToolCheck, server: ServerInfo, env: Environment): Promise<DumpToolCheck> {
    if (tool.problem || !tool.path) return tool;
    const args = ['--schema-only', '--exclude-schema=*', '--no-password', `--dbname=${conninfo(spec)}`];
    const invocation = plain(tool, args, spec);
    // Untranslated messages: "server version mismatch" is matched below, and pg_dump's NLS would translate it.
    invocation.env.LC_ALL = 'C';
    let dumpedBy: string | undefined;
    let lines = 0;
    const child = spawnChild({
      argv: invocation.argv, env: childEnvironment(env, 'tool-basics', invocation.env), stdout: 'lines', stderr: 'lines', timeoutMs: PROBE_TIMEOUT_MS,
      onLine: (line) => {
        lines += 1;
        const m = /^-- Dumped by pg_dump version (\S+)/.exec(line);
        if (m) dumpedBy = m[1];
      },
    });
    const exit = await child.exit;
    invocation.dispose();
    const major = serverMajor(server);
    if (!succeeded(exit)) {
      const mismatch = /server version mismatch/.test(exit.tail);
      return {
        ...tool,
        problem: mismatch
          ? `${tool.path} reports ${tool.version ?? 'no version'} but refused the PostgreSQL ${server.version} server: ${describeExit(tool.name, exit, 2)}`
          : `${tool.path} could not read the server's catalogs: ${describeExit(tool.name, exit, 2)}`,
        fix: mismatch
          ? `Install postgresql-client-${major}, or point --pg-bin-dir (OM_MIGRATE_PG_BIN_DIR) at a directory holding a real pg_dump ${major} or newer.`
          : 'Fix what pg_dump reports (connection, TLS, privileges); the backup would fail the same way.',
      };
    }
    const ranMajor = parsePgToolVersion(`pg_dump (PostgreSQL) ${dumpedBy ?? ''}`)?.major;
    if (ranMajor === undefined || ranMajor < major || ranMajor !== parsePgToolVersion(tool.version)?.major) {
      return {
        ...tool,
        problem: ranMajor === undefined
          ? `${tool.path} reports ${tool.version ?? 'no version'} but did not write a pg_dump header (${lines} lines of output): it is not pg_dump`
          : `${tool.path} reports ${tool.version ?? 'no version'} but the dump it wrote says pg_dump ${dumpedBy}`,
        fix: `Point --pg-bin-dir (OM_MIGRATE_PG_BIN_DIR) at the bin directory of a real PostgreSQL ${major} or newer client installation.`,
      };
    }
    return tool;
  }

  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck): ToolInvocation {
    // -Fc compresses itself and lets pg_restore list (verify) and restore selectively; output goes to stdout.
    const args = ['--format=custom', '--no-password', `--dbname=${conninfo(spec)}`];
    return plain(tool, args, spec);
  }

  /**
   * --jobs N: pg_dump's directory format, the only one it writes in parallel (one file per table, compressed as -Fc
   * is, plus toc.dat); its workers share the leader's snapshot (pg_export_snapshot), so the dump is as consistent as
   * the single-file one. pg_restore reads the directory the same way it reads an archive, in parallel or not.
   */
  readonly parallel: ParallelDumpTooling = {
    format: 'directory',
    dumpInvocation: (spec, tool, _server, dir, jobs) =>
      plain(tool, ['--format=directory', `--jobs=${jobs}`, `--file=${dir}`, '--no-password', `--dbname=${conninfo(spec)}`], spec),
  };

  dumpCompleted(): boolean {
    return true;
  }

  listInvocation(tool: DumpToolCheck, file: string): ToolInvocation {
    return { argv: [tool.path as string, '--list', '--', file], env: {}, display: [tool.name, '--list', '--', file], dispose: () => undefined };
  }

  restoreInvocation(spec: ConnectionSpec, tool: DumpToolCheck, file: string, options: { replace: boolean; jobs?: number }):
    { invocation: ToolInvocation; stdin: boolean } {
    const jobs = options.jobs ?? 1;
    const args = [
      '--no-password', `--dbname=${conninfo(spec)}`,
      // All or nothing: a failed restore leaves the database as it was instead of half-loaded. pg_restore cannot run
      // parallel jobs in one transaction, so --jobs gives that up (the operator asked for it).
      ...(jobs > 1 ? [`--jobs=${jobs}`] : ['--single-transaction']), '--exit-on-error',
      // The restoring role owns what it creates; the original owner may not exist on this server.
      '--no-owner',
      ...(options.replace ? ['--clean', '--if-exists'] : []),
      '--', file,
    ];
    return { invocation: plain(tool, args, spec), stdin: false };
  }
}

/**
 * The whole connection as one libpq conninfo string with every value quoted. libpq reads a --dbname that contains `=`
 * as a connection string, so a database called `dbname=other` passed as a bare name would connect to `other`; quoted
 * inside a conninfo it is only ever a name.
 */
export function conninfo(spec: ConnectionSpec): string {
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [['host', spec.host], ['port', String(spec.port)], ['user', spec.user], ['dbname', spec.database]]
    .map(([key, value]) => `${key}=${quote(value)}`).join(' ');
}

/** libpq reads PGPASSWORD and PGSSLMODE from the environment: nothing secret on the command line. */
function plain(tool: DumpToolCheck, args: string[], spec: ConnectionSpec): ToolInvocation {
  const env: Record<string, string> = {};
  if (spec.password !== undefined) env.PGPASSWORD = spec.password;
  const sslmode = spec.params.sslmode ?? spec.params.sslMode;
  if (sslmode) env.PGSSLMODE = sslmode;
  return { argv: [tool.path as string, ...args], env, display: [tool.name, ...args], dispose: () => undefined };
}

function serverMajor(server: ServerInfo): number {
  return Number(server.version.split('.')[0]);
}

function pgSearch(env: Environment, search: DumpToolSearch): PgToolSearch {
  return { env, binDir: search.pgBinDir || undefined };
}

function asCheck(choice: PgToolChoice): DumpToolCheck {
  const c = choice.chosen;
  return c
    ? { name: choice.tool, path: c.path, version: c.versionText, problem: undefined, fix: undefined }
    : { name: choice.tool, path: undefined, version: undefined, problem: choice.problem, fix: choice.fix };
}
