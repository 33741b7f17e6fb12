import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BackupManifest } from '../../src/backup/BackupManifest.js';
import { checkCompression } from '../../src/backup/compression.js';
import { NOTHING_SPARED, pruneBackups } from '../../src/backup/pruneBackups.js';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { MysqlDumpTool } from '../../src/dialects/mysql/MysqlDumpTool.js';
import { PostgresDumpTool } from '../../src/dialects/postgres/PostgresDumpTool.js';
import type { DumpToolCheck, ServerInfo } from '../../src/dialects/types.js';
import { OmMigrateError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'omm-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = 'p"a\\ss\nword';
const spec = (engine: 'mysql' | 'postgres'): ConnectionSpec =>
  ({ engine, host: 'db', port: engine === 'mysql' ? 3306 : 5432, user: 'u', password: PASSWORD, database: 'openmetadata_db', params: {}, source: 'test' });
const mariadb: ServerInfo = { flavour: 'mariadb', version: '10.11.19', versionText: '', managed: undefined, floor: '10.6.0', belowFloor: false };
const mysql8: ServerInfo = { ...mariadb, flavour: 'mysql', version: '8.0.36' };
const tool = (name: string, version: string): DumpToolCheck => ({ name, path: `/usr/bin/${name}`, version, problem: undefined, fix: undefined });

describe('dump command lines', () => {
  it('MySQL family: the password goes to a 0600 defaults file, never into argv or the displayed command', () => {
    const inv = new MysqlDumpTool().dumpInvocation(spec('mysql'), tool('mariadb-dump', 'mariadb-dump Ver 10.19 Distrib 10.11.19-MariaDB'), mariadb);
    try {
      assert.ok(inv.argv[1].startsWith('--defaults-extra-file='), 'must be the first argument');
      assert.ok(!inv.argv.join(' ').includes(PASSWORD) && !inv.argv.join(' ').includes('a\\ss'));
      assert.ok(!inv.display.join(' ').includes(inv.argv[1].split('=')[1]));
      const file = inv.argv[1].split('=')[1];
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, 'utf8'), '[client]\npassword="p\\"a\\\\ss\\nword"\n');
      for (const flag of ['--single-transaction', '--routines', '--triggers', '--events', '--hex-blob']) assert.ok(inv.argv.includes(flag), flag);
      assert.deepEqual(inv.argv.slice(-2), ['--', 'openmetadata_db'], 'the database name after --, never read as an option');
      inv.dispose();
      assert.equal(existsSync(file), false);
    } finally {
      inv.dispose();
    }
  });

  it('MySQL 8 mysqldump gets GTID handling; against MariaDB it skips COLUMN_STATISTICS', () => {
    const oracle = tool('mysqldump', 'mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)');
    const onMysql = new MysqlDumpTool().dumpInvocation(spec('mysql'), oracle, mysql8);
    const onMaria = new MysqlDumpTool().dumpInvocation(spec('mysql'), oracle, mariadb);
    onMysql.dispose();
    onMaria.dispose();
    assert.ok(onMysql.argv.includes('--set-gtid-purged=OFF'));
    assert.ok(!onMysql.argv.includes('--column-statistics=0'), 'MySQL 8 has COLUMN_STATISTICS');
    assert.ok(onMaria.argv.includes('--column-statistics=0'));
    assert.ok(onMaria.argv.includes('--set-gtid-purged=OFF'), 'AUTO would ask MariaDB for @@GTID_MODE (1193)');
  });

  it('MariaDB\'s dump tool gets neither MySQL-only flag, on either family (it rejects both as unknown variables)', () => {
    const maria = tool('mariadb-dump', 'mariadb-dump Ver 10.19 Distrib 10.11.19-MariaDB');
    for (const server of [mariadb, mysql8]) {
      const inv = new MysqlDumpTool().dumpInvocation(spec('mysql'), maria, server);
      inv.dispose();
      assert.ok(!inv.argv.some((a) => /^--(set-gtid-purged|column-statistics)/.test(a)), server.flavour);
    }
  });

  it('PostgreSQL: PGPASSWORD in the environment, custom format, nothing secret in argv', () => {
    const inv = new PostgresDumpTool().dumpInvocation(spec('postgres'), tool('pg_dump', 'pg_dump (PostgreSQL) 15.20'));
    assert.equal(inv.env.PGPASSWORD, PASSWORD);
    assert.ok(inv.argv.includes('--format=custom'));
    assert.ok(!inv.argv.join(' ').includes(PASSWORD) && !inv.argv.join(' ').includes('a\\ss'));
  });

  it('recognises a finished SQL dump by its completion line only', () => {
    const tooling = new MysqlDumpTool();
    assert.ok(tooling.dumpCompleted('...\n-- Dump completed on 2026-01-01 10:00:00\n'));
    assert.ok(tooling.dumpCompleted('...\n-- Dump completed\n'));
    assert.ok(!tooling.dumpCompleted('INSERT INTO t VALUES (1);\n'));
  });
});

describe('compression', () => {
  it('names what to install when zstd is neither in Node nor on PATH', (t) => {
    if (typeof (process as unknown as { versions: Record<string, string> }).versions.zstd === 'string') t.skip('this Node has zstd');
    assert.throws(() => checkCompression('zstd', { PATH: '/nonexistent' }),
      (e: unknown) => e instanceof OmMigrateError && e.code === 'BACKUP_FAILED' && /apt-get install zstd/.test(e.hint ?? ''));
    assert.doesNotThrow(() => checkCompression('gzip', { PATH: '/nonexistent' }));
  });
});

describe('retention by manifest', () => {
  const manifest = (file: string, startedAt: string, database = 'openmetadata_db'): BackupManifest => ({
    manifestVersion: 1, createdBy: 'om-migrate', omMigrateVersion: '0.1.0', role: 'openmetadata', engine: 'mysql',
    server: { flavour: 'mariadb', version: '10.11.19', versionText: '', host: 'db', port: 3306 }, user: 'u', database,
    openmetadataVersion: '1.10.2', airflowRevision: null, format: 'sql', compression: 'none', file, bytes: 1, dumpBytes: 1,
    sha256: 'x', startedAt, finishedAt: startedAt, tool: { name: 'mariadb-dump', path: '/usr/bin/mariadb-dump', version: undefined },
    command: [], verification: { method: 'completion-line' },
  });
  const put = (m: BackupManifest, into = dir) => {
    writeFileSync(join(into, m.file), 'x');
    writeFileSync(join(into, `${m.file}.manifest.json`), JSON.stringify(m));
  };

  it('keeps the newest N of the same database and never touches other files', async () => {
    const old1 = manifest('openmetadata_db-om1.10.2-20260101T000000Z.sql', '2026-01-01T00:00:00.000Z');
    const old2 = manifest('openmetadata_db-om1.10.2-20260102T000000Z.sql', '2026-01-02T00:00:00.000Z');
    const latest = manifest('openmetadata_db-om1.10.2-20260103T000000Z.sql', '2026-01-03T00:00:00.000Z');
    const otherDb = manifest('airflow_db-omnone-20251201T000000Z.sql', '2025-12-01T00:00:00.000Z', 'airflow_db');
    for (const m of [old1, old2, latest, otherDb]) put(m);
    // An operator's own dump named like ours, but without a manifest: not ours to remove.
    writeFileSync(join(dir, 'openmetadata_db-om1.9.0-20250101T000000Z.sql'), 'mine');
    // A manifest that points at another file than the one it sits beside is ignored.
    writeFileSync(join(dir, 'forged.sql.manifest.json'), JSON.stringify(manifest('/etc/passwd', '2000-01-01T00:00:00.000Z')));

    const removed = await pruneBackups(dir, latest, 2, NOTHING_SPARED);
    assert.deepEqual(removed, [join(dir, old1.file)]);
    const left = readdirSync(dir).sort();
    assert.ok(!left.includes(old1.file) && !left.includes(`${old1.file}.manifest.json`));
    for (const kept of [old2.file, latest.file, otherDb.file, 'openmetadata_db-om1.9.0-20250101T000000Z.sql', 'forged.sql.manifest.json']) {
      assert.ok(left.includes(kept), kept);
    }
  });

  it('never removes a backup of an unfinished run, by its manifest\'s run id or by the ledger\'s manifest path; those do not count towards N', async () => {
    const ofRunA = { ...manifest('openmetadata_db-om1.10.2-20260201T000000Z.sql', '2026-02-01T00:00:00.000Z'), runId: 'run-a' };
    const takenOver = manifest('openmetadata_db-om1.10.2-20260202T000000Z.sql', '2026-02-02T00:00:00.000Z');
    const ofDoneRun = { ...manifest('openmetadata_db-om1.10.5-20260203T000000Z.sql', '2026-02-03T00:00:00.000Z'), runId: 'run-done' };
    const latest = manifest('openmetadata_db-om1.11.0-20260204T000000Z.sql', '2026-02-04T00:00:00.000Z');
    const own = mkdtempSync(join(dir, 'spared-'));
    for (const m of [ofRunA, takenOver, ofDoneRun, latest]) put(m, own);
    const spared = { runIds: new Set(['run-a']), manifests: new Set([join(own, `${takenOver.file}.manifest.json`)]) };
    assert.deepEqual(await pruneBackups(own, latest, 1, spared), [join(own, ofDoneRun.file)]);
    const left = readdirSync(own);
    for (const kept of [ofRunA.file, takenOver.file, latest.file]) assert.ok(left.includes(kept), kept);
  });
});
