import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { UpScenario } from '../../fixtures/upScenario.js';
import { alive, assertParametersAsBefore, ledgerByStep, ledgerRows, parameterSnapshot, runCli, upTestServers, waitFor } from '../../helpers/upHarness.js';

/**
 * A migrator that never ends, and ignores SIGTERM: --step-timeout stops it with SIGTERM, then SIGKILL after the grace
 * period, and only once it is gone are the parameters put back. The migrator itself watches the raised value while it
 * is being stopped: it must never see it put back under it.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A shell command that prints the value om-migrate raised, as the migrator's own user sees it (any user may read it). */
function readRaised(sc: UpScenario): string {
  if (sc.server.engine === 'mysql') {
    return `MYSQL_PWD="$DB_USER_PASSWORD" mariadb -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -e 'SELECT @@GLOBAL.sort_buffer_size'`;
  }
  return `PGPASSWORD="$DB_USER_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$OM_DATABASE" -Atc "SELECT coalesce((SELECT c FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c WHERE d.datname = current_database() AND s.setrole = 0 AND c LIKE 'work_mem=%'), 'none')"`;
}

for (const engine of engines) {
  describe(`step timeout: ${engine.label}`, () => {
    it('SIGTERM, then SIGKILL; the parameters stay raised until the migrator is gone, then are put back', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const dir = mkdtempSync(join(tmpdir(), 'omm-timeout-'));
      dirs.push(dir);
      const log = join(dir, 'watch.log');
      writeFileSync(join(dir, 'stubborn.sh'), `#!/bin/sh
echo $$ > '${dir}/pid'
trap 'echo TERM >> "${log}"' TERM
while :; do
  echo "value $(${readRaised(sc)})" >> '${log}'
  sleep 0.5
done
`);
      const run = await runCli(sc, ['up', '--json', '--step-timeout', '1m'], { OM_MIGRATE_OM_COMMAND: `exec /bin/sh '${join(dir, 'stubborn.sh')}'` });
      assert.equal(run.code, 8, run.stdout + run.stderr);
      assert.equal(run.json.error.code, 'STEP_FAILED');
      assert.match(run.json.error.message, /ran past its time limit|timed out|time limit/);
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      await waitFor('the migrator to be gone', () => !alive(pid), 5_000).catch(() => undefined);
      assert.equal(alive(pid), false, 'the migrator that ignored SIGTERM was killed');

      // A poll whose client was ended by the group's SIGTERM prints no value: not a reading.
      const lines = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.trim() !== 'value');
      const term = lines.indexOf('TERM');
      assert.ok(term > 0, `it was sent SIGTERM first: ${lines.slice(-5).join(' | ')}`);
      const raised = sc.server.engine === 'mysql' ? /^value 20971520$/ : /^value work_mem=20MB$/;
      const during = lines.slice(0, term).filter((l) => l.startsWith('value '));
      const afterTerm = lines.slice(term + 1).filter((l) => l.startsWith('value '));
      assert.ok(during.length > 0 && during.every((l) => raised.test(l)), `raised while it ran: ${during.slice(-3).join(' | ')}`);
      assert.ok(afterTerm.length > 0, 'it went on after SIGTERM (the grace period)');
      assert.ok(afterTerm.every((l) => raised.test(l)), `never put back while it was still running: ${afterTerm.join(' | ')}`);

      await assertParametersAsBefore(sc, params);
      assert.deepEqual(ledgerByStep((await ledgerRows(sc))!)['openmetadata/server-migrate'], ['failed']);
      assert.ok(existsSync(log));
    });
  });
}
