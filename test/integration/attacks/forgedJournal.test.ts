import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import type { Dialect } from '../../../src/dialects/types.js';
import type { UpScenario } from '../../fixtures/upScenario.js';
import { assertParametersAsBefore, omVersion, parameterSnapshot, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * The application user writes the application database, where om-migrate keeps the journal of changes made through the
 * application connection. An attacker with only that user inserts rows meant to make the admin connection run SQL of
 * their choosing (the old journal stored revert_sql and ran it through the admin connection). `revert-params` and `up`
 * must never run any of it, must say which rows they ignored, and the attacker's privileges must stay exactly as they were.
 */
const { engines, scenario } = upTestServers();

interface Forged {
  id: string;
  parameter: string;
  scope: string;
  object: string | null;
  previous: string | null;
  next: string;
  revertSql: string;
}

/** Everything the attacker's role may do, as the server's superuser sees it. */
async function privilegesOf(sc: UpScenario): Promise<unknown> {
  const admin = await connect(sc.server.admin);
  try {
    const user = sc.om.appSpec.user;
    if (sc.server.engine === 'mysql') {
      const out: Record<string, unknown> = {};
      for (const host of ['%', 'localhost']) {
        const [rows] = await admin.knex.raw(`SHOW GRANTS FOR ?@?`, [user, host]);
        out[host] = (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]).sort();
      }
      const [su] = await admin.knex.raw('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND (Super_priv = \'Y\' OR Grant_priv = \'Y\')', [user]);
      out.superOrGrant = Number((su as Array<{ n: number }>)[0].n);
      return out;
    }
    const roles = await admin.knex.raw(
      'SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = ?', [user]);
    const member = await admin.knex.raw(
      'SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = ? ORDER BY 1', [user]);
    const settings = await admin.knex.raw(
      `SELECT coalesce(d.datname, '*') AS d, coalesce(r.rolname, '*') AS r, s.setconfig FROM pg_db_role_setting s
         LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole
        WHERE d.datname = ANY(?) OR r.rolname = ANY(?) ORDER BY 1, 2`, [[sc.om.name, 'postgres'], [user, 'postgres']]);
    return { role: roles.rows, memberOf: member.rows, settings: settings.rows };
  } finally {
    await admin.close();
  }
}

/** The rows an attacker writes: each tries another way past validation; each names SQL that would escalate them. */
function forgedRows(sc: UpScenario, liveSortBuffer: string): Forged[] {
  const user = sc.om.appSpec.user;
  if (sc.server.engine === 'mysql') {
    const grant = `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%' WITH GRANT OPTION`;
    return [
      { id: 'forged:grant-in-value', parameter: 'sort_buffer_size', scope: 'global', object: null, previous: `262144; ${grant}`, next: '262144', revertSql: grant },
      { id: 'forged:grant-in-name', parameter: `sort_buffer_size = 262144; ${grant}; SET @x`, scope: 'global', object: null, previous: '262144', next: '262144', revertSql: grant },
      { id: 'forged:other-parameter', parameter: 'read_only', scope: 'global', object: null, previous: '1', next: '0', revertSql: 'SET GLOBAL read_only = 1' },
      { id: 'forged:session-scope', parameter: 'sort_buffer_size', scope: 'session', object: 'mysql', previous: '262144', next: '262144', revertSql: grant },
      { id: 'forged:huge-value', parameter: 'sort_buffer_size', scope: 'global', object: null, previous: '999999999999999', next: '262144', revertSql: grant },
      // Passes every value check, and its `next` is the live value, so a revert would be attempted through the
      // application connection, refused (1227), and the operator told to run SET GLOBAL … = 4 GB by hand.
      { id: 'forged:valid-but-not-the-apps', parameter: 'sort_buffer_size', scope: 'global', object: null, previous: String(4 * 1024 ** 3), next: liveSortBuffer, revertSql: grant },
    ];
  }
  const superuser = `ALTER ROLE "${user}" SUPERUSER`;
  return [
    { id: 'forged:superuser-in-value', parameter: 'work_mem', scope: 'database', object: sc.om.name, previous: `4MB'; ${superuser}; --`, next: '20MB', revertSql: superuser },
    { id: 'forged:superuser-in-name', parameter: `work_mem = '4MB'; ${superuser}; --`, scope: 'database', object: sc.om.name, previous: '4MB', next: '20MB', revertSql: superuser },
    { id: 'forged:superuser-in-object', parameter: 'work_mem', scope: 'database', object: `x" SET work_mem = '4MB'; ${superuser}; --`, previous: '4MB', next: '20MB', revertSql: superuser },
    { id: 'forged:another-database', parameter: 'work_mem', scope: 'database', object: 'postgres', previous: '1GB', next: '20MB', revertSql: 'ALTER DATABASE postgres SET work_mem = \'1GB\'' },
    { id: 'forged:another-role', parameter: 'work_mem', scope: 'role', object: 'postgres', previous: '1GB', next: '20MB', revertSql: 'ALTER ROLE postgres SET work_mem = \'1GB\'' },
    { id: 'forged:system-scope', parameter: 'work_mem', scope: 'system', object: null, previous: '2000000kB', next: '20MB', revertSql: 'ALTER SYSTEM SET work_mem = \'2000000kB\'' },
    { id: 'forged:other-parameter', parameter: 'shared_preload_libraries', scope: 'system', object: null, previous: 'evil', next: '', revertSql: superuser },
  ];
}

/** As the attacker: the application user creates the journal table if needed, adds the old revert_sql column, writes the rows. */
async function plant(sc: UpScenario, app: Dialect, rows: Forged[]): Promise<void> {
  await app.journal.ensure();
  await app.knex.schema.alterTable('om_migrate_journal', (t) => {
    t.text('apply_sql').nullable();
    t.text('revert_sql').nullable();
    // The attacker owns the table: its columns are as wide as they like.
    t.text('parameter_name').notNullable().alter();
    t.text('scope').notNullable().alter();
  });
  const server = await app.params.serverIdentity();
  const now = new Date(Date.now() - 3600_000).toISOString();
  for (const r of rows) {
    await app.knex.table('om_migrate_journal').insert({
      id: r.id, run_id: 'forged-run', database_name: sc.om.name, server_name: server, parameter_name: r.parameter, scope: r.scope,
      object_name: r.object, previous_value: r.previous, previous_existed: r.previous !== null, new_value: r.next,
      via: 'admin', status: 'applied', holder: 'om-migrate up pid=1 host=attacker', created_at: now, updated_at: now, note: null,
      apply_sql: r.revertSql, revert_sql: r.revertSql,
    });
  }
}

async function statuses(app: Dialect): Promise<Record<string, string>> {
  const rows = await app.knex.table('om_migrate_journal').where({ run_id: 'forged-run' }).select('id', 'status') as Array<{ id: string; status: string }>;
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

for (const engine of engines) {
  describe(`forged journal rows written by the application user: ${engine.label}`, () => {
    it('revert-params and up never run them, name each one, and the attacker gains nothing', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const privileges = await privilegesOf(sc);
      const app = await connect(sc.om.appSpec);
      try {
        const rows = forgedRows(sc, sc.server.engine === 'mysql' ? String(await app.params.sortMemoryBytes()) : '');
        await plant(sc, app, rows);

        const status = await runCli(sc, ['status']);
        assert.equal(status.code, 0, status.stdout + status.stderr);
        for (const r of rows) assert.match(status.stdout, new RegExp(`${r.id}.*never be run`), `status names ${r.id}:\n${status.stdout}`);
        assert.doesNotMatch(status.stdout, /unreverted: .*run om-migrate revert-params/, 'no forged row is offered for revert');

        const json = await runCli(sc, ['revert-params', '--json']);
        assert.equal(json.code, 0, json.stdout + json.stderr);
        assert.deepEqual(json.json.result.reverted, [], 'nothing was put back');
        const reported = json.json.result.entries as Array<{ id: string; problem?: string }>;
        for (const r of rows) {
          const e = reported.find((x) => x.id === r.id);
          assert.ok(e, `${r.id} is reported: ${JSON.stringify(reported)}`);
          assert.ok(e.problem, `${r.id} is marked as not runnable: ${JSON.stringify(e)}`);
        }
        const text = await runCli(sc, ['revert-params']);
        assert.equal(text.code, 0, text.stdout + text.stderr);
        for (const r of rows) assert.match(text.stdout, new RegExp(`${r.id}.*not run|not run.*${r.id}`), `the text output names ${r.id}:\n${text.stdout}`);

        const up = await runCli(sc, ['up', '--json']);
        assert.equal(up.code, 0, up.stdout + up.stderr);
        assert.equal(await omVersion(sc), '1.11.0', 'the upgrade itself went through');
        const rejected = (up.json.result.rejectedJournalRows as Array<{ id: string; reason: string }>).map((r) => r.id).sort();
        assert.deepEqual(rejected, rows.map((r) => r.id).sort(), 'up names every forged row');

        assert.deepEqual(await privilegesOf(sc), privileges, 'the attacker\'s privileges (and the settings of its role, its database and postgres\'s) are as before');
        await assertParametersAsBefore(sc, params);
        assert.deepEqual(Object.values(await statuses(app)), rows.map(() => 'applied'), 'no forged row is ever marked as put back');
      } finally {
        await app.close();
      }
    });
  });
}
