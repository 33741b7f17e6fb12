import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MysqlDumpTool } from '../../src/dialects/mysql/MysqlDumpTool.js';
import { connect } from '../../src/dialects/connect.js';
import { SERVERS } from '../helpers/servers.js';

/**
 * The MySQL family's client/server pairs, as far as this machine can run them: its only dump tool is MariaDB's
 * (Debian's mysqldump is a symlink to mariadb-dump), its only server MariaDB 10.11. What MySQL 8's own tools do is
 * covered by the command-line unit tests and the GitHub workflow's MySQL services.
 */
const mysql = SERVERS.find((s) => s.engine === 'mysql')!;

describe('MySQL family: dump tool against server', () => {
  it('the dump tool chosen for MariaDB is MariaDB\'s, with no warning; its dump starts with the sandbox line', async () => {
    const d = await connect({ ...mysql.admin, database: 'mysql' });
    try {
      const server = await d.serverInfo();
      const tool = new MysqlDumpTool().locate(server, process.env);
      assert.equal(tool.problem, undefined);
      assert.match(tool.version ?? '', /MariaDB/);
      assert.equal(tool.warning, undefined);
      const inv = new MysqlDumpTool().dumpInvocation({ ...mysql.admin, database: 'mysql' }, tool, server);
      try {
        const r = spawnSync(inv.argv[0], [...inv.argv.slice(1, -2), '--no-data', '--', 'mysql', 'db'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        // MDEV-21178: MySQL's mysql client rejects this line; om-migrate restores a mariadb-dump file with MariaDB's client.
        assert.match(r.stdout.split('\n')[0], /^\/\*M?!999999\\- enable the sandbox mode \*\//);
      } finally {
        inv.dispose();
      }
    } finally {
      await d.close();
    }
  });

  it('MariaDB\'s tool rejects MySQL-only flags, which is why they are only passed to MySQL\'s mysqldump', () => {
    for (const flag of ['--set-gtid-purged=OFF', '--column-statistics=0']) {
      const r = spawnSync('mariadb-dump', ['--no-defaults', flag, '--host=127.0.0.1', '--no-data', 'mysql'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, flag);
      assert.match(r.stderr, /unknown variable/, flag);
    }
  });

  it('a MySQL 8 server with only MariaDB\'s dump tool: usable, with a warning naming the restore consequence', () => {
    const mysql8 = { flavour: 'mysql' as const, version: '8.0.36', versionText: '8.0.36', managed: undefined, floor: '8.0.0', belowFloor: false };
    const tool = new MysqlDumpTool().locate(mysql8, process.env);
    assert.equal(tool.problem, undefined);
    assert.match(tool.warning ?? '', /MariaDB's .*sandbox mode.*only a MariaDB client restores it/);
    assert.match(tool.fix ?? '', /mysql-client/);
    const restore = new MysqlDumpTool().locateRestore(mysql8, process.env);
    assert.match(restore.version ?? '', /MariaDB/, 'and the client that restores it is MariaDB\'s too');
  });
});
