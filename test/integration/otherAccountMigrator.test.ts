import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Finding } from '../../src/core/Gate.js';
import { connect } from '../../src/dialects/connect.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { createDagTable, sqlAlchemyUrl, standInCommandLine } from '../fixtures/airflow/python/pythonAirflow.js';
import { adminUrl } from '../fixtures/upScenario.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/upHarness.js';
import { SERVERS, createScratchDatabase } from '../helpers/servers.js';

/**
 * Issue 25, point 4: a killed pod's `UPDATE task_instance` still running on the server under ANOTHER account is invisible
 * to the application user (MariaDB shows other users' sessions only with PROCESS; PostgreSQL hides their statements
 * without pg_read_all_stats). Preflight used to say "no other migration is running". Now it looks through the admin
 * connection when there is one (and blocks, naming the session), and says when what it sees is partial.
 */
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

for (const server of SERVERS) {
  describe(`a migrator of another account: ${server.label}`, () => {
    it('is found through --admin-url (block, named); without one, preflight says its view is partial instead of "no other migration is running"', async () => {
      const db = await createScratchDatabase(server, 'omm_otheracct');
      const app = await connect(db.appSpec);
      const dir = mkdtempSync(join(tmpdir(), 'omm-otheracct-'));
      cleanups.push(async () => { await app.close(); await db.drop(); rmSync(dir, { recursive: true, force: true }); });
      await createAirflowSchema(app, server.engine);
      await createDagTable(app.knex, server.engine);
      await seedTaskInstances(app, server.engine, 10);
      // The superuser (another account) runs a long UPDATE of task_instance, as a killed pod's statement goes on.
      const other = await connect(db.rootSpec);
      cleanups.push(() => other.close());
      const otherId = await other.runs.connectionId();
      const running = other.knex.raw(server.engine === 'mysql'
        ? 'UPDATE task_instance SET try_number = try_number WHERE SLEEP(60) = 0 LIMIT 1'
        : 'UPDATE task_instance SET try_number = try_number WHERE (SELECT pg_sleep(60)::text) IS NULL').catch(() => undefined);
      cleanups.push(async () => {
        await db.root.knex.raw(server.engine === 'mysql' ? `KILL QUERY ${Number(otherId)}` : `SELECT pg_cancel_backend(${Number(otherId)})`);
        await running;
      });
      await waitFor('the other account\'s UPDATE to run', async () => {
        const r = await db.root.knex.raw(server.engine === 'mysql'
          ? "SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE task\\_instance%'"
          : "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'UPDATE task\\_instance%'") as unknown;
        return (Array.isArray(r) ? r[0] as unknown[] : (r as { rows: unknown[] }).rows).length > 0;
      });
      const env = {
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sqlAlchemyUrl({ ...db.appSpec, password: db.appSpec.password ?? undefined }),
        OM_MIGRATE_AIRFLOW_COMMAND: standInCommandLine(['db', 'migrate']),
        OM_MIGRATE_AIRFLOW_CHECK_COMMAND: standInCommandLine(['db', 'check-migrations', '-t', '0']),
        OM_MIGRATE_BACKUP_DIR: join(dir, 'backups'),
        OM_MIGRATE_JOURNAL_DIR: join(dir, 'journal'),
      };
      const gate = (stdout: string) => (JSON.parse(stdout).result.findings as Finding[]).filter((f) => f.gate === 'running-migrator');

      const partial = await runCli(['preflight', '--json'], { env });
      const seen = gate(partial.stdout);
      assert.ok(!seen.some((f) => /^no other migration is running$/.test(f.summary)), JSON.stringify(seen));
      assert.match(seen.map((f) => `${f.summary} ${f.fix ?? ''}`).join('\n'), /only (its|their) own sessions|sessions of other accounts/);
      assert.match(seen.map((f) => f.fix ?? '').join('\n'), /--admin-url/);

      const admin = await runCli(['preflight', '--json'], { env: { ...env, OM_MIGRATE_ADMIN_URL: adminUrl(server.admin) } });
      assert.equal(admin.code, 4, admin.stdout + admin.stderr);
      const blocks = gate(admin.stdout).filter((f) => f.severity === 'block');
      assert.equal(blocks.length, 1, JSON.stringify(gate(admin.stdout)));
      assert.match(blocks[0].summary, new RegExp(`a schema change is running on ${db.name}: session ${otherId} \\(${server.admin.user}`));
      assert.match(blocks[0].summary, /UPDATE task_instance/);
    });
  });
}
