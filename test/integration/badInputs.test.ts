import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createServerChangeLog, insertVersions } from '../fixtures/openmetadata/serverChangeLog.js';
import { freePort } from '../helpers/binlogMariadb.js';
import { CliResult, omArgs, runCli } from '../helpers/cli.js';
import { createScratchDatabase, ScratchDatabase, SERVERS } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'omm-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const STACK = /^\s+at .+[(:]\d+/m;

/** One line starting `om-migrate:`, optionally one `  fix:` line, and nothing that looks like a stack trace. */
function assertOneLineError(result: CliResult, exitCode: number, message: RegExp): void {
  const context = `exit ${result.code}\nstderr:\n${result.stderr}\nstdout:\n${result.stdout}`;
  assert.equal(result.code, exitCode, context);
  const lines = result.stderr.replace(/\n$/, '').split('\n');
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1].startsWith('  fix: ')), `one line (+ fix) on stderr: ${context}`);
  assert.ok(lines[0].startsWith('om-migrate: '), context);
  assert.match(lines[0], message, context);
  assert.doesNotMatch(result.stderr + result.stdout, STACK, `no stack trace: ${context}`);
}

/** Bad inputs that fail before any connection: usage and configuration errors, exit 2. */
describe('bad inputs refused before connecting (exit 2)', () => {
  const cases: Array<{ name: string; args: string[]; env?: Record<string, string>; message: RegExp }> = [
    { name: 'malformed YAML', args: ['preflight', '--config', file('bad.yaml', 'database:\n  url: "unterminated\n  user: x\n')],
      message: /bad\.yaml is not valid YAML at line \d+/ },
    { name: 'YAML without a database block', args: ['preflight', '--config', file('nodb.yaml', 'server:\n  port: 8585\n')],
      message: /has no "database:" block/ },
    { name: 'YAML with an unset variable', args: ['preflight', '--config', file('novar.yaml', 'database:\n  url: jdbc:mysql://${OMM_UNSET_HOST}/db\n')],
      message: /OMM_UNSET_HOST is not set and has no default/ },
    { name: 'missing --config file', args: ['preflight', '--config', join(dir, 'nope.yaml')], message: /cannot read --config .*ENOENT/ },
    { name: 'YAML with a non-JDBC URL', args: ['preflight', '--config', file('url.yaml', 'database:\n  url: mysql://h/db\n')],
      message: /is not a JDBC URL/ },
    { name: 'unknown DB_SCHEME', args: ['preflight'], env: { DB_HOST: '127.0.0.1', DB_SCHEME: 'oracle' }, message: /DB_SCHEME "oracle" is not a supported scheme/ },
    { name: 'unknown DB_DRIVER_CLASS', args: ['preflight'], env: { DB_HOST: '127.0.0.1', DB_DRIVER_CLASS: 'oracle.jdbc.OracleDriver' },
      message: /DB_DRIVER_CLASS "oracle\.jdbc\.OracleDriver"/ },
    { name: 'unknown SQLAlchemy scheme', args: ['preflight', '--airflow-url', 'sqlite:////tmp/airflow.db'], message: /unsupported database scheme "sqlite"/ },
    { name: 'unknown SQLAlchemy scheme in AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', args: ['preflight'],
      env: { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'mssql+pyodbc://u:p@h/db' }, message: /AIRFLOW__DATABASE__SQL_ALCHEMY_CONN uses the unsupported database scheme "mssql"/ },
    { name: 'a stray % in the Airflow URL', args: ['preflight', '--airflow-url', 'mysql+mysqldb://u:100%@h/db'], message: /not followed by two hex digits/ },
    { name: 'a command after -- for anything but entrypoint', args: ['preflight', '--db-host', '127.0.0.1', '--', 'ls'],
      message: /preflight takes no command after --: ls/ },
    { name: 'invalid --to', args: ['preflight', '--db-host', '127.0.0.1', '--to', '1.x'], message: /--to "1\.x" is not an OpenMetadata version/ },
    { name: 'invalid OM_MIGRATE_TARGET_VERSION', args: ['preflight', '--db-host', '127.0.0.1'], env: { OM_MIGRATE_TARGET_VERSION: 'latest' },
      message: /"latest" is not an OpenMetadata version/ },
    { name: 'unreadable --db-password-file', args: ['preflight', '--db-host', '127.0.0.1', '--db-password-file', join(dir, 'no-password')],
      message: /cannot read --db-password-file .*ENOENT/ },
    { name: 'a directory as --db-password-file', args: ['preflight', '--db-host', '127.0.0.1', '--db-password-file', dir],
      message: /cannot read --db-password-file .*EISDIR/ },
    { name: 'bad --db-port', args: ['preflight', '--db-host', '127.0.0.1', '--db-port', 'abc'], message: /--db-port: port "abc" is not a number/ },
    { name: 'out-of-range DB_PORT', args: ['preflight'], env: { DB_HOST: '127.0.0.1', DB_PORT: '70000' }, message: /DB_PORT: port "70000"/ },
    { name: 'bad --stale-after', args: ['preflight', '--db-host', '127.0.0.1', '--stale-after', 'soon'], message: /--stale-after "soon" is not a duration/ },
    { name: 'bad --work-mem-scope', args: ['preflight', '--db-host', '127.0.0.1', '--work-mem-scope', 'cluster'],
      message: /--work-mem-scope "cluster" is not one of database, role, system/ },
    { name: 'bad --work-mem', args: ['preflight', '--db-host', '127.0.0.1', '--work-mem', '20XB'], message: /--work-mem "20XB" is not a size/ },
    { name: 'bad --lock-timeout', args: ['preflight', '--db-host', '127.0.0.1', '--lock-timeout', 'forever'], message: /--lock-timeout "forever"/ },
    { name: 'bad --params', args: ['preflight', '--db-host', '127.0.0.1', '--params', 'maybe'], message: /--params "maybe"/ },
    { name: 'bad --admin-url', args: ['preflight', '--db-host', '127.0.0.1', '--admin-url', 'ftp://root@h'], message: /--admin-url uses the unsupported database scheme "ftp"/ },
    { name: 'no database configured at all', args: ['preflight'], message: /no database configured/ },
    { name: 'unknown command', args: ['migrate-everything'], message: /Unknown argument: migrate-everything/ },
    { name: 'unknown flag', args: ['preflight', '--db-host', '127.0.0.1', '--frobnicate'], message: /Unknown argument: frobnicate/ },
    { name: 'no command', args: [], message: /Name a command/ },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      assertOneLineError(await runCli(c.args, { env: c.env, cwd: dir }), 2, c.message);
    });
  }

  it('the ingestion container\'s DB_* names alone are not mistaken for OpenMetadata\'s', async () => {
    // DB_SCHEME=mysql+mysqldb with AIRFLOW_DB: the Airflow database; port 1 is closed, so it fails to connect (exit 3).
    const result = await runCli(['preflight'], { env: { DB_HOST: '127.0.0.1', DB_PORT: '1', DB_SCHEME: 'mysql+mysqldb', AIRFLOW_DB: 'airflow_db',
      DB_USER: 'airflow_user', DB_PASSWORD: 'airflow_pass' }, cwd: dir });
    assertOneLineError(result, 3, /cannot connect: mysql:\/\/airflow_user@127\.0\.0\.1:1\/airflow_db/);
    assert.match(result.stdout, /^airflow /m);
    assert.doesNotMatch(result.stdout, /^openmetadata /m);
  });

  it('--verbose shows the stack trace of the cause', async () => {
    const result = await runCli(['preflight', '--verbose', '--db-host', '127.0.0.1', '--db-password-file', join(dir, 'no-such-file')], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^om-migrate: cannot read --db-password-file .*ENOENT/);
    assert.match(result.stderr, STACK);
  });

  it('--verbose on malformed YAML never prints the password substituted into it', async () => {
    writeFileSync(join(dir, 'secret.yaml'), 'database:\n  password: ${DB_USER_PASSWORD}\n  url: [unclosed\n');
    const result = await runCli(['preflight', '--verbose', '--config', join(dir, 'secret.yaml')],
      { cwd: dir, env: { DB_USER_PASSWORD: 'Sup3r-Secret-pw' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^om-migrate: .*is not valid YAML/);
    assert.doesNotMatch(result.stdout + result.stderr, /Sup3r-Secret-pw/);
  });

  it('--json on an error prints one JSON document with error.code, and nothing on stderr', async () => {
    const result = await runCli(['preflight', '--json', '--db-host', '127.0.0.1', '--to', 'v2'], { cwd: dir });
    assert.equal(result.code, 2);
    const doc = JSON.parse(result.stdout) as { ok: boolean; exitCode: number; error: { code: string; message: string; hint?: string } };
    assert.equal(doc.ok, false);
    assert.equal(doc.exitCode, 2);
    assert.equal(doc.error.code, 'USAGE');
    assert.match(doc.error.message, /--to "v2"/);
    assert.equal(result.stderr, '');
    const config = await runCli(['preflight', '--json', '--config', join(dir, 'nodb.yaml')], { cwd: dir });
    assert.equal(JSON.parse(config.stdout).error.code, 'CONFIG');
    const yargsError = await runCli(['preflight', '--json', '--nope'], { cwd: dir });
    assert.equal(yargsError.code, 2);
    assert.equal(JSON.parse(yargsError.stdout).error.code, 'USAGE');
  });
});

for (const server of SERVERS) {
  describe(`bad inputs against ${server.label}`, () => {
    let db: ScratchDatabase;
    let app: Dialect;
    let fingerprint: () => Promise<string>;
    let initial: string;
    before(async () => {
      db = await createScratchDatabase(server, 'omm_bad');
      app = await connect(db.appSpec);
      await createServerChangeLog(app);
      await insertVersions(app, ['1.9.5', '1.10.2']);
      fingerprint = async () => {
        const raw = server.engine === 'mysql'
          ? [(await db.root.knex.raw('CHECKSUM TABLE SERVER_CHANGE_LOG'))[0],
            (await db.root.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS s, @@GLOBAL.log_bin_trust_function_creators AS t'))[0],
            (await db.root.knex.raw('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1'))[0]]
          : [(await db.root.knex.raw("SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS d FROM server_change_log x")).rows,
            (await db.root.knex.raw('SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = ?', [db.name])).rows,
            (await db.root.knex.raw("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1")).rows];
        return JSON.stringify(raw);
      };
      initial = await fingerprint();
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    async function cli(spec: typeof db.appSpec, extra: string[] = [], json = false): Promise<CliResult> {
      const { args, env } = omArgs(spec);
      return runCli(['preflight', ...args, ...extra, ...(json ? ['--json'] : [])], { env, cwd: dir });
    }

    it('wrong password → exit 3 (PostgreSQL here trusts 127.0.0.1: an unknown role)', async () => {
      const spec = server.engine === 'mysql' ? { ...db.appSpec, password: 'wrong-password-123' }
        : { ...db.appSpec, user: 'omm_no_such_role', password: 'wrong-password-123' };
      const result = await cli(spec);
      assertOneLineError(result, 3, /cannot connect: .*wrong user or password/);
      assert.doesNotMatch(result.stdout + result.stderr, /wrong-password-123/);
    });

    it('closed port → exit 3', async () => {
      assertOneLineError(await cli({ ...db.appSpec, port: await freePort() }), 3, /cannot connect: .*connection refused/);
    });

    it('unknown database → exit 3', async () => {
      assertOneLineError(await cli({ ...db.rootSpec, database: 'omm_no_such_db' }), 3, /cannot connect: .*database "omm_no_such_db" does not exist/);
    });

    it('unknown host → exit 3', async () => {
      assertOneLineError(await cli({ ...db.appSpec, host: 'no-such-host.invalid' }), 3, /cannot connect: .*unknown host "no-such-host\.invalid"/);
    });

    it('downgrade --to → exit 4', async () => {
      const result = await cli(db.appSpec, ['--to', '1.9.5']);
      assertOneLineError(result, 4, /blocked: --to 1\.9\.5 is lower than the database's 1\.10\.2: a downgrade/);
      assert.match(result.stdout, /BLOCK versions/);
    });

    it('--json on a connection failure: one document, exit 3, the failure class', async () => {
      const result = await cli({ ...db.appSpec, port: await freePort() }, [], true);
      assert.equal(result.code, 3);
      const doc = JSON.parse(result.stdout) as { ok: boolean; command: string; result: { unreachable: boolean; findings: Array<{ gate: string; data?: { failure?: string } }> } };
      assert.equal(doc.ok, false);
      assert.equal(doc.command, 'preflight');
      assert.equal(doc.result.unreachable, true);
      assert.equal(doc.result.findings.find((f) => f.gate === 'connection')?.data?.failure, 'refused');
    });

    it('left the server as it was', async () => {
      assert.equal(await fingerprint(), initial);
    });
  });
}

