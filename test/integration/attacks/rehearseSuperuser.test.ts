import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { adminUrl } from '../../fixtures/upScenario.js';
import { omVersion, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * `rehearse --rehearse-admin-url` with a superuser account: the copy used to be restored owned by the superuser and
 * migrated as it, so a trigger of the application's, copied along with its tables, ran as the superuser while the
 * migrator wrote — and made the application's role one — and the rehearsal reported PASSED (issue 21, point 3). The
 * superuser may only make the copy; the application's own user restores and migrates it. On MySQL a trigger runs as
 * its definer whoever fires it, so there the proof is the account the copy is used through.
 */
const { engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`rehearse with a superuser --rehearse-admin-url: ${engine.label}`, () => {
    it('the copy is restored and migrated as the application\'s own user; its trigger gains nothing; the rehearsal passes', async () => {
      const sc = await scenario(engine.server());
      const role = sc.om.appSpec.user;
      if (sc.server.engine === 'postgres') {
        const app = await connect(sc.om.appSpec);
        try {
          // Quietly, so that a rehearsal run as the application's user passes all the same.
          await app.knex.raw(`CREATE FUNCTION public.on_change_log() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              BEGIN EXECUTE 'ALTER ROLE "${role}" SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
              RETURN NEW;
            END $$`);
          await app.knex.raw('CREATE TRIGGER on_change_log AFTER INSERT ON server_change_log FOR EACH ROW EXECUTE FUNCTION public.on_change_log()');
        } finally {
          await app.close();
        }
      }
      const superuser = { OM_MIGRATE_REHEARSE_ADMIN_URL: adminUrl(sc.server.admin) };
      const run = await runCli(sc, ['rehearse', '--json', '--keep-copy'], superuser);
      const root = await connect(sc.server.admin);
      try {
        if (sc.server.engine === 'postgres') {
          const r = await root.knex.raw('SELECT rolsuper FROM pg_roles WHERE rolname = ?', [role]);
          assert.equal((r as { rows: Array<{ rolsuper: boolean }> }).rows[0].rolsuper, false, `the application's role is no superuser\n${run.stdout}${run.stderr}`);
        }
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const result = run.json.result;
        assert.equal(result.outcome, 'passed');
        for (const c of result.copies as Array<{ role: string; copy: string; server: string }>) {
          const user = c.role === 'openmetadata' ? sc.om.appSpec.user : sc.airflow.appSpec.user;
          assert.match(c.server, new RegExp(`://${user}@`), `${c.copy} is used through ${user}, not the superuser: ${c.server}`);
          if (sc.server.engine === 'postgres') {
            const owner = await root.knex.raw('SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = ?', [c.copy]);
            assert.equal((owner as { rows: Array<{ o: string }> }).rows[0].o, user, `${c.copy} is owned by ${user}`);
          }
        }
        assert.equal(await omVersion(sc), '1.10.2', 'the real database is untouched');
      } finally {
        for (const c of (run.json?.result?.copies ?? []) as Array<{ copy: string }>) {
          await root.knex.raw(sc.server.engine === 'mysql' ? `DROP DATABASE IF EXISTS \`${c.copy}\`` : `DROP DATABASE IF EXISTS "${c.copy}" WITH (FORCE)`);
        }
        await root.close();
      }
    });
  });
}
