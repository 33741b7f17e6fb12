import { findExecutable, toolVersionText } from '../findExecutable.js';
import type { DumpToolCheck, DumpTooling, ServerInfo } from '../types.js';

/** pg_dump, which must be at least the server's major version to dump it. */
export class PostgresDumpTool implements DumpTooling {
  locate(server: ServerInfo, env: NodeJS.ProcessEnv = process.env): DumpToolCheck {
    const path = findExecutable('pg_dump', env);
    if (!path) {
      return {
        name: 'pg_dump', path, version: undefined, problem: 'pg_dump is not on PATH',
        fix: `Install the PostgreSQL ${server.version.split('.')[0]} client tools (Debian: apt-get install postgresql-client) or add them to PATH.`,
      };
    }
    const version = toolVersionText(path, env);
    const toolMajor = Number(/(\d+)(?:\.\d+)?/.exec(version ?? '')?.[1]);
    const serverMajor = Number(server.version.split('.')[0]);
    if (!version || Number.isNaN(toolMajor)) {
      return { name: 'pg_dump', path, version, problem: `${path} does not run (--version failed)`, fix: 'Reinstall the PostgreSQL client tools.' };
    }
    if (toolMajor < serverMajor) {
      return {
        name: 'pg_dump', path, version,
        problem: `pg_dump ${toolMajor} cannot dump a PostgreSQL ${serverMajor} server`,
        fix: `Install pg_dump ${serverMajor} or newer (postgresql-client-${serverMajor}) and put it first on PATH.`,
      };
    }
    return { name: 'pg_dump', path, version, problem: undefined, fix: undefined };
  }
}
