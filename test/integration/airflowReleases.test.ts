import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import { runPythonAirflow } from '../fixtures/airflow/python/pythonAirflow.js';
import { airflowRevision, runCli, upTestServers } from '../helpers/upHarness.js';

/**
 * Airflow of the newer ingestion images (docs/facts/airflow.md): OpenMetadata 1.13.0–1.13.3 ship Airflow 3.2.x (head
 * 1d6611b6ab7c), 1.13.4 and 2.0 ship 3.3.0 (head d2f4e1b3c5a7). The Python stand-in carries those heads and the FAB
 * provider's own chain (alembic_version_fab), run by Debian's alembic and the real drivers: the 1091 below is the
 * server's own answer to the FAB migration's drop of a foreign key by a name the table does not have.
 */
const { engines, scenario } = upTestServers();

interface Finding { gate: string; severity: string; summary: string; fix?: string; data?: Record<string, unknown> }

const findingsOf = (run: { json: { result?: { findings?: Finding[] } } }, gate: string): Finding[] =>
  (run.json.result?.findings ?? []).filter((f) => f.gate === gate);

for (const engine of engines) {
  describe(`Airflow 3.2 and 3.3 and the FAB provider: ${engine.label}`, () => {
    it('up migrates to Airflow 3.3\'s head; status and preflight name 3.3 and the FAB revision, never "unknown"', async () => {
      const sc = await scenario(engine.server());
      const up = await runCli(sc, ['up', '--json'], { AIRFLOW_STANDIN_RELEASE: '3.3', AIRFLOW_STANDIN_FAB_FIXED: '1' });
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.equal(up.json.result.after.airflow.revision, 'd2f4e1b3c5a7');
      assert.equal(up.json.result.after.airflow.fabRevision, '02ca36b0235b');
      assert.equal(await airflowRevision(sc), 'd2f4e1b3c5a7');

      const status = await runCli(sc, ['status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /Airflow: d2f4e1b3c5a7 \(head of Airflow 3\.3\.0–3\.3\.1/);
      assert.match(status.stdout, /Airflow FAB provider: 02ca36b0235b \(head of the FAB provider/);
      assert.doesNotMatch(status.stdout, /not a (FAB )?revision om-migrate knows/);

      const preflight = await runCli(sc, ['preflight', '--json'], { AIRFLOW_STANDIN_RELEASE: '3.3' });
      const airflow = findingsOf(preflight, 'versions').find((f) => /^Airflow at /.test(f.summary));
      assert.equal(airflow?.severity, 'ok', JSON.stringify(airflow));
      assert.match(airflow!.summary, /Airflow at d2f4e1b3c5a7 \(head of Airflow 3\.3\.0–3\.3\.1 \(OpenMetadata 1\.13\.4 and later, 2\.0\)\); nothing pending/);
      assert.deepEqual(findingsOf(preflight, 'airflow-fab').map((f) => f.severity), ['ok']);
    });

    it('a 3.2 upgrade over FAB tables whose foreign keys carry the server\'s default names is blocked with the fix; the fix lets it through', async () => {
      const sc = await scenario(engine.server());
      // Airflow 3.1 with the FAB provider's base: its tables made as the ORM of FAB < 3.4.0 made them (unnamed keys).
      const first = await runCli(sc, ['up', '--json'], { AIRFLOW_STANDIN_RELEASE: '3.1' });
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.equal(first.json.result.after.airflow.revision, 'cc92b33c6709');
      assert.equal(first.json.result.after.airflow.fabRevision, '6709f7a774b9');

      const up = await runCli(sc, ['up', '--json'], { AIRFLOW_STANDIN_RELEASE: '3.2' });
      if (sc.server.engine === 'postgres') {
        // PostgreSQL names an unnamed foreign key "<table>_<column>_fkey": exactly what the migration drops.
        assert.equal(up.code, 0, up.stdout + up.stderr);
        assert.equal(up.json.result.after.airflow.revision, '1d6611b6ab7c');
        assert.equal(up.json.result.after.airflow.fabRevision, '02ca36b0235b');
        return;
      }
      assert.equal(up.code, 4, up.stdout + up.stderr);
      const block = up.json.error.details.blocks.find((b: Finding) => b.gate === 'airflow-fab');
      assert.match(block.summary, /ab_permission_view_role\.ab_permission_view_role_ibfk_\d \(expected ab_permission_view_role_role_id_fkey\)/);
      assert.match(block.summary, /apache\/airflow#65402/);
      assert.match(block.fix, /ALTER TABLE `ab_permission_view_role` DROP FOREIGN KEY `ab_permission_view_role_ibfk_\d`;/);
      assert.equal(await airflowRevision(sc), 'cc92b33c6709', 'nothing was migrated');

      // What the block prevents, for real: the FAB provider of 3.5.0–3.6.2 stops at its first DROP with the server's 1091.
      const bare = await runPythonAirflow({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: sc.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN!, AIRFLOW_STANDIN_RELEASE: '3.2' });
      assert.equal(bare.exitCode, 1, bare.stdout + bare.stderr);
      assert.match(bare.stderr, /\(1091, "Can't DROP FOREIGN KEY `ab_permission_view_role_role_id_fkey`|\(1091, "Can't DROP 'ab_permission_view_role_role_id_fkey'/);

      // The statements the block names, run as the Airflow database's owner, then up goes through.
      const app = await connect(sc.airflow.appSpec);
      try {
        for (const sql of block.data.statements as string[]) await app.knex.raw(sql);
      } finally {
        await app.close();
      }
      const fixed = await runCli(sc, ['up', '--json'], { AIRFLOW_STANDIN_RELEASE: '3.2' });
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.equal(fixed.json.result.after.airflow.fabRevision, '02ca36b0235b');
      assert.equal(await airflowRevision(sc), '1d6611b6ab7c');
    });
  });
}
