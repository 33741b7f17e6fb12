import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { detectAirflowState } from '../../src/airflow/detectAirflowState.js';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createAirflowSchema, seedTaskInstances } from '../fixtures/airflow/airflowSchema.js';
import { SimulatedCrash, runStandInMigration } from '../fixtures/airflow/python/migrateToUuidPk.js';
import { SERVERS, ScratchDatabase, createScratchDatabase } from '../helpers/servers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const server = SERVERS.find((s) => s.engine === 'mysql')!;

describe('om-migrate repair-airflow (CLI) on MariaDB', () => {
  let db: ScratchDatabase;
  let app: Dialect;
  let url: string;
  const backupDir = mkdtempSync(join(tmpdir(), 'omm-af-cli-backups-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'repair-airflow', '--airflow-url', url, ...args],
    { encoding: 'utf8', env: { ...process.env, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: '', DB_HOST: '', OM_MIGRATE_BACKUP_DIR: backupDir } });
  const dumps = () => readdirSync(backupDir).filter((f) => f.endsWith('.sql'));

  before(async () => {
    db = await createScratchDatabase(server, 'omm_af_cli', { seesOtherSessions: true });
    app = await connect(db.appSpec);
    await createAirflowSchema(app, 'mysql');
    await seedTaskInstances(app, 'mysql', 20);
    await runStandInMigration(db.appSpec, { stopAfter: 3 }).catch((e) => assert.ok(e instanceof SimulatedCrash));
    const { user, password, host, port } = db.appSpec;
    url = `mysql+pymysql://${user}:${encodeURIComponent(password ?? '')}@${host}:${port}/${db.name}`;
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('--dry-run prints the SQL and changes nothing', async () => {
    const r = cli('--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DROP FUNCTION IF EXISTS uuid_generate_v7;/);
    assert.match(r.stdout, /ALTER TABLE task_instance DROP COLUMN id;/);
    assert.equal((await detectAirflowState(app)).kind, 'half-applied');
  });

  it('takes a verified backup first, repairs, then has nothing to do and takes no second backup', async () => {
    const r = cli();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backup verified: .*\.sql/);
    assert.match(r.stdout, /\[1\/2\] drop the leftover uuid_generate_v7 function/);
    assert.equal((await detectAirflowState(app)).kind, 'healthy-before');
    assert.equal(dumps().length, 1);
    assert.equal(statSync(join(backupDir, dumps()[0])).mode & 0o777, 0o600);
    assert.ok(existsSync(join(backupDir, `${dumps()[0]}.manifest.json`)));
    assert.equal(cli().status, 10);
    assert.equal(dumps().length, 1);
  });

  it('--no-backup repairs without a backup', async () => {
    await runStandInMigration(db.appSpec, { stopAfter: 3 }).catch((e) => assert.ok(e instanceof SimulatedCrash));
    assert.equal((await detectAirflowState(app)).kind, 'half-applied');
    const r = cli('--no-backup');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /backup verified/);
    assert.equal((await detectAirflowState(app)).kind, 'healthy-before');
    assert.equal(dumps().length, 1);
  });
});
