import { dirname } from 'node:path';
import type { ConnectionSpec } from '../../config/ConnectionSpec.js';
import { findExecutable, toolVersionText } from '../../process/findExecutable.js';
import type { DumpToolCheck, DumpTooling, ServerInfo, ToolInvocation } from '../types.js';

/** pg_dump (at least the server's major version) and pg_restore, which reads its custom-format archives. */
export class PostgresDumpTool implements DumpTooling {
  readonly format = 'custom' as const;

  locate(server: ServerInfo, env: NodeJS.ProcessEnv = process.env): DumpToolCheck {
    return locateVersioned('pg_dump', findExecutable('pg_dump', env), server, env);
  }

  locateRestore(server: ServerInfo, env: NodeJS.ProcessEnv = process.env): DumpToolCheck {
    // pg_restore cannot read an archive from a newer pg_dump: prefer the one installed beside pg_dump.
    const dump = findExecutable('pg_dump', env);
    const beside = dump ? findExecutable('pg_restore', { ...env, PATH: dirname(dump) }) : undefined;
    return locateVersioned('pg_restore', beside ?? findExecutable('pg_restore', env), server, env);
  }

  dumpInvocation(spec: ConnectionSpec, tool: DumpToolCheck): ToolInvocation {
    // -Fc compresses itself and lets pg_restore list (verify) and restore selectively; output goes to stdout.
    const args = ['--format=custom', '--no-password', `--dbname=${conninfo(spec)}`];
    return plain(tool, args, spec);
  }

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

function locateVersioned(name: string, path: string | undefined, server: ServerInfo, env: NodeJS.ProcessEnv): DumpToolCheck {
  const serverMajor = Number(server.version.split('.')[0]);
  if (!path) {
    return {
      name, path, version: undefined, problem: `${name} is not on PATH`,
      fix: `Install the PostgreSQL ${serverMajor} client tools (Debian: apt-get install postgresql-client) or add them to PATH.`,
    };
  }
  const version = toolVersionText(path, env);
  const toolMajor = Number(/(\d+)(?:\.\d+)?/.exec(version ?? '')?.[1]);
  if (!version || Number.isNaN(toolMajor)) {
    return { name, path, version, problem: `${path} does not run (--version failed)`, fix: 'Reinstall the PostgreSQL client tools.' };
  }
  if (toolMajor < serverMajor) {
    return {
      name, path, version,
      problem: `${name} ${toolMajor} cannot ${name === 'pg_dump' ? 'dump' : 'restore into'} a PostgreSQL ${serverMajor} server`,
      fix: `Install ${name} ${serverMajor} or newer (postgresql-client-${serverMajor}) and put it first on PATH.`,
    };
  }
  return { name, path, version, problem: undefined, fix: undefined };
}

