import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../src/core/Gate.js';
import { connect } from '../../src/dialects/connect.js';
import { adminUrl } from '../fixtures/upScenario.js';
import { airflowCases } from '../helpers/airflowCase.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/upHarness.js';
import { SERVERS } from '../helpers/servers.js';

/**
 * Issue 25, point 4: a killed pod's `UPDATE task_instance` still running on the server under ANOTHER account is invisible
 * to the application user (MariaDB shows other users' sessions only with PROCESS; PostgreSQL hides their statements
 * without pg_read_all_stats). Preflight used to say "no other migration is running". Now it looks through the admin
 * connection when there is one (and blocks, naming the session), and says when what it sees is partial.
 */
const cases = airflowCases();

for (const server of SERVERS) {
  describe(`a migrator of another account: ${server.label}`, () => {
    it('is found through --admin-url (block, named); without one, preflight says its view is partial instead of "no other migration is running"', async () => {
      // Without PROCESS: the other account's session is what the application user must not see.
      const { db, env } = await cases.create(server, 'omm_otheracct', { seesOtherSessions: false });
      // The superuser (another account) runs a long UPDATE of task_instance, as a killed pod's statement goes on.
      const other = await connect(db.rootSpec);
      cases.cleanup(() => other.close());
      const otherId = await other.runs.connectionId();
      const running = other.knex.raw(server.engine === 'mysql'
        ? 'UPDATE task_instance SET try_number = try_number WHERE SLEEP(60) = 0 LIMIT 1'
        : 'UPDATE task_instance SET try_number = try_number WHERE (SELECT pg_sleep(60)::text) IS NULL').catch(() => undefined);
      cases.cleanup(async () => {
        await db.root.knex.raw(server.engine === 'mysql' ? `KILL QUERY ${Number(otherId)}` : `SELECT pg_cancel_backend(${Number(otherId)})`);
        await running;
      });
      await waitFor('the other account\'s UPDATE to run', async () => {
        const r = await db.root.knex.raw(server.engine === 'mysql'
          ? "SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE task\\_instance%'"
          : "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'UPDATE task\\_instance%'") as unknown;
        return (Array.isArray(r) ? r[0] as unknown[] : (r as { rows: unknown[] }).rows).length > 0;
      });
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
