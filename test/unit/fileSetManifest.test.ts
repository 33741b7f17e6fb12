import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileSetDigest, parseManifest } from '../../src/backup/BackupManifest.js';
import { shareOut } from '../../src/backup/runParallelBackup.js';

const hash = (c: string) => c.repeat(64);

function manifest(overrides: Record<string, unknown>): string {
  const files = [{ name: 'tables-01.sql', bytes: 10, sha256: hash('a'), load: 'parallel', tables: ['t'] }, { name: 'objects.sql', bytes: 5, sha256: hash('b'), load: 'last' }];
  return JSON.stringify({
    manifestVersion: 2, createdBy: 'om-migrate', omMigrateVersion: '0.1.0', role: 'openmetadata', engine: 'mysql', database: 'db',
    format: 'sql-files', compression: 'none', file: 'db-om1.10.2-20260101T000000Z.sql.d', bytes: 15, dumpBytes: 15,
    sha256: fileSetDigest(files), files, jobs: 2, ...overrides,
  });
}

describe('version 2 manifests (a directory of files)', () => {
  it('are read; every listed name must be a plain, distinct file name with a SHA-256', () => {
    assert.ok(parseManifest(manifest({})));
    for (const name of ['../x', 'a/b', '.hidden', '', '-x/..']) {
      assert.equal(parseManifest(manifest({ files: [{ name, bytes: 1, sha256: hash('c') }] })), undefined, name);
    }
    assert.equal(parseManifest(manifest({ files: [{ name: 'a.sql', bytes: 1, sha256: hash('c') }, { name: 'a.sql', bytes: 1, sha256: hash('d') }] })), undefined);
    assert.equal(parseManifest(manifest({ files: [{ name: 'a.sql', bytes: 1, sha256: 'not-a-hash' }] })), undefined);
    assert.equal(parseManifest(manifest({ files: [] })), undefined);
    assert.equal(parseManifest(manifest({ files: undefined })), undefined);
  });

  it('never mix the forms: a directory format in a version 1 manifest, or a single-file format in a version 2 one, is not a manifest', () => {
    assert.equal(parseManifest(manifest({ manifestVersion: 1, files: undefined })), undefined);
    assert.equal(parseManifest(manifest({ format: 'sql' })), undefined);
    assert.equal(parseManifest(manifest({ format: 'custom' })), undefined);
    assert.ok(parseManifest(manifest({ format: 'directory', engine: 'postgres' })));
  });

  it('stand for the whole set by the digest of the listing: the same for any order, different for any change', () => {
    const a = [{ name: 'x', bytes: 1, sha256: hash('1') }, { name: 'y', bytes: 2, sha256: hash('2') }];
    assert.equal(fileSetDigest(a), fileSetDigest([...a].reverse()));
    assert.notEqual(fileSetDigest(a), fileSetDigest([a[0], { ...a[1], bytes: 3 }]));
    assert.notEqual(fileSetDigest(a), fileSetDigest([a[0], { ...a[1], name: 'z' }]));
    assert.notEqual(fileSetDigest(a), fileSetDigest([a[0], { ...a[1], sha256: hash('3') }]));
    assert.notEqual(fileSetDigest(a), fileSetDigest([a[0]]));
  });
});

describe('shareOut: the tables of a parallel MySQL dump in sessions of about the same size', () => {
  const t = (name: string, bytes: number) => ({ name, bytes, transactional: true });

  it('gives each table to exactly one session, the largest first to the lightest session', () => {
    const groups = shareOut([t('a', 100), t('b', 60), t('c', 50), t('d', 10), t('e', 0)], 2);
    assert.deepEqual(groups, [['a', 'd', 'e'], ['b', 'c']]);
  });

  it('never makes more sessions than tables, and none for no table', () => {
    assert.deepEqual(shareOut([t('a', 1), t('b', 1)], 4), [['a'], ['b']]);
    assert.deepEqual(shareOut([], 4), []);
  });
});
