import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import type { Finding } from '../../src/core/Gate.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { createDagTable } from '../fixtures/airflow/python/pythonAirflow.js';
import { airflowCases, backupsOf, type AirflowCase } from '../helpers/airflowCase.js';
import { runCli } from '../helpers/cli.js';
import { SERVERS } from '../helpers/servers.js';

/**
 * Issue 25, point 3: an application user that lacks a privilege the plan needs is blocked by preflight, which names
 * the GRANT, before anything is backed up or changed. Before, a user without ALTER on its own database got exit 1 from
 * om-migrate's own ledger table on the first `up`, then exit 8 after a backup on the next; `repair-airflow` backed up
 * before failing; a missing CREATE ROUTINE was found by Airflow's migration itself.
 */
const cases = airflowCases();
const privilegeBlocks = (json: { result?: { findings?: Finding[] } }) =>
  (json.result?.findings ?? []).filter((f) => f.gate === 'privileges' && f.severity === 'block');

async function mysqlAccount(c: AirflowCase): Promise<string> {
  return `'${c.db.appSpec.user}'@'%'`;
}

async function ledgerExists(c: AirflowCase): Promise<boolean> {
  const r = c.db.server.engine === 'mysql'
    ? await c.db.root.knex.raw('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [c.db.name, 'om_migrate_ledger'])
    : await c.db.root.knex.raw("SELECT 1 FROM pg_class WHERE relname = 'om_migrate_ledger'");
  return (Array.isArray(r) ? (r[0] as unknown[]) : (r as { rows: unknown[] }).rows).length > 0;
}

const mariadb = SERVERS.find((s) => s.engine === 'mysql')!;
const postgres = SERVERS.find((s) => s.engine === 'postgres')!;

describe('privileges the plan needs: MariaDB', () => {
  it('no ALTER on its own database: preflight, up and repair-airflow block (exit 4) naming GRANT ALTER; nothing backed up, no ledger', async () => {
    const c = await cases.create(mariadb, 'omm_priv_alter');
    await runStandInMigration(c.db.appSpec, { stopAfter: 3 }).catch((e) => assert.ok(e instanceof SimulatedCrash, String(e)));
    assert.equal((await detectAirflowState(c.app)).kind, 'half-applied');
    for (const host of ['%', 'localhost']) await c.db.root.knex.raw(`REVOKE ALTER ON \`${c.db.name}\`.* FROM '${c.db.appSpec.user}'@'${host}'`);
    const grant = new RegExp(`GRANT ALTER(, [A-Z ]+)* ON \`${c.db.name}\`\\.\\* TO ${(await mysqlAccount(c)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

    const pre = await runCli(['preflight', '--json'], { env: c.env });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const blocks = privilegeBlocks(JSON.parse(pre.stdout));
    assert.ok(blocks.length > 0, pre.stdout);
    assert.match(blocks.map((b) => b.fix).join('\n'), grant);
    assert.match(blocks.map((b) => b.summary).join('\n'), /ALTER/);

    const up = await runCli(['up', '--json'], { env: c.env });
    assert.equal(up.code, 4, up.stdout + up.stderr);
    assert.equal(JSON.parse(up.stdout).error.code, 'BLOCKED');
    assert.match(JSON.parse(up.stdout).error.hint, grant);
    assert.deepEqual(backupsOf(c), [], 'no backup taken');
    assert.equal(await ledgerExists(c), false, 'om-migrate created nothing');

    const repair = await runCli(['repair-airflow', '--json'], { env: c.env });
    assert.equal(repair.code, 4, repair.stdout + repair.stderr);
    assert.match(JSON.parse(repair.stdout).error.hint, grant);
    assert.deepEqual(backupsOf(c), [], 'repair-airflow blocked before its backup');
    assert.equal((await detectAirflowState(c.app)).kind, 'half-applied', 'nothing repaired');
  });

  it('no CREATE ROUTINE: preflight blocks d59cbbef95eb\'s CREATE FUNCTION, naming GRANT CREATE ROUTINE', async () => {
    const c = await cases.create(mariadb, 'omm_priv_routine');
    for (const host of ['%', 'localhost']) await c.db.root.knex.raw(`REVOKE CREATE ROUTINE ON \`${c.db.name}\`.* FROM '${c.db.appSpec.user}'@'${host}'`);
    const pre = await runCli(['preflight', '--json'], { env: c.env });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const blocks = privilegeBlocks(JSON.parse(pre.stdout));
    assert.match(blocks.map((b) => b.summary).join('\n'), /CREATE ROUTINE.*CREATE FUNCTION/);
    assert.match(blocks.map((b) => b.fix).join('\n'), new RegExp(`GRANT CREATE ROUTINE ON \`${c.db.name}\`\\.\\*`));
  });
});

describe('a routine another account defined (MariaDB)', () => {
  it('repair-airflow and backup stop before dumping (exit 6) and name the GRANT that lets the dump read it', async () => {
    const c = await cases.create(mariadb, 'omm_priv_definer');
    await runStandInMigration(c.db.appSpec, { stopAfter: 1 }).catch((e) => assert.ok(e instanceof SimulatedCrash, String(e)));
    // The superuser's routine in the application's database: its body is hidden from the application user.
    await c.db.root.knex.raw('CREATE DEFINER = CURRENT_USER FUNCTION omm_someone_elses() RETURNS INT DETERMINISTIC RETURN 1');
    const grant = /GRANT (SELECT ON mysql\.proc|SHOW CREATE ROUTINE ON `[^`]+`\.\*) TO /;
    const repair = await runCli(['repair-airflow', '--json'], { env: c.env });
    assert.equal(repair.code, 6, repair.stdout + repair.stderr);
    const error = JSON.parse(repair.stdout).error;
    assert.match(error.message, /omm_someone_elses/);
    assert.match(error.hint, grant);
    assert.match(error.hint, /--skip-routines/, 'says why the dump tool\'s own way out is not taken');
    assert.deepEqual(backupsOf(c).filter((f) => !f.endsWith('.partial')), []);
    assert.equal((await detectAirflowState(c.app)).kind, 'half-applied', 'nothing repaired');
    const backup = await runCli(['backup', '--json'], { env: c.env });
    assert.equal(backup.code, 6, backup.stdout + backup.stderr);
    assert.match(JSON.parse(backup.stdout).error.hint, grant);
  });
});

describe('privileges the plan needs: PostgreSQL', () => {
  it('task_instance owned by another role: preflight, up and repair-airflow block naming ALTER TABLE … OWNER TO; nothing backed up', async () => {
    const c = await cases.create(postgres, 'omm_priv_owner', { seed: false });
    // Built and migrated by the superuser, stamped back: the repair's ALTER TABLEs need the owner.
    await createAirflowSchema(c.db.root, 'postgres');
    await createDagTable(c.db.root.knex, 'postgres');
    await seedTaskInstances(c.db.root, 'postgres', 10);
    await runStandInMigration(c.db.rootSpec);
    await c.db.root.knex.raw("UPDATE alembic_version SET version_num = '05234396c6fc'");
    await c.db.root.knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA public TO "${c.db.appSpec.user}"`);
    await c.db.root.knex.raw(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "${c.db.appSpec.user}"`);
    assert.equal((await detectAirflowState(c.app)).kind, 'half-applied');

    const pre = await runCli(['preflight', '--json'], { env: c.env });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const fixes = privilegeBlocks(JSON.parse(pre.stdout)).map((b) => b.fix).join('\n');
    assert.match(fixes, new RegExp(`ALTER TABLE public\\.task_instance OWNER TO "?${c.db.appSpec.user}"?;`));
    assert.match(fixes, new RegExp(`ALTER TABLE public\\.xcom OWNER TO "?${c.db.appSpec.user}"?;`));

    const up = await runCli(['up', '--json'], { env: c.env });
    assert.equal(up.code, 4, up.stdout + up.stderr);
    assert.deepEqual(backupsOf(c), []);
    assert.equal(await ledgerExists(c), false);
    const repair = await runCli(['repair-airflow', '--json'], { env: c.env });
    assert.equal(repair.code, 4, repair.stdout + repair.stderr);
    assert.deepEqual(backupsOf(c), []);
  });

  it('no CREATE on the schema: preflight blocks d59cbbef95eb\'s CREATE FUNCTION and om-migrate\'s own tables, naming GRANT CREATE ON SCHEMA', async () => {
    const c = await cases.create(postgres, 'omm_priv_schema');
    // The database (and with it the public schema, owned by pg_database_owner) goes to the superuser.
    await c.db.root.knex.raw(`ALTER DATABASE "${c.db.name}" OWNER TO postgres`);
    await c.db.root.knex.raw(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    const pre = await runCli(['preflight', '--json'], { env: c.env });
    assert.equal(pre.code, 4, pre.stdout + pre.stderr);
    const blocks = privilegeBlocks(JSON.parse(pre.stdout));
    assert.match(blocks.map((b) => b.summary).join('\n'), /CREATE on schema public/);
    assert.match(blocks.map((b) => b.fix).join('\n'), new RegExp(`GRANT CREATE ON SCHEMA public TO "?${c.db.appSpec.user}"?;`));
  });
});
