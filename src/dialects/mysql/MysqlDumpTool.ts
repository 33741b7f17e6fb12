import { findExecutable, toolVersionText } from '../findExecutable.js';
import type { DumpToolCheck, DumpTooling, ServerInfo } from '../types.js';

/** mariadb-dump / mysqldump: the server's own family's tool first, the other one as a fallback. */
export class MysqlDumpTool implements DumpTooling {
  locate(server: ServerInfo, env: NodeJS.ProcessEnv = process.env): DumpToolCheck {
    const names = server.flavour === 'mariadb' ? ['mariadb-dump', 'mysqldump'] : ['mysqldump', 'mariadb-dump'];
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
}
