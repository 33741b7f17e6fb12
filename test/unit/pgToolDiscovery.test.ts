import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  choosePgTool, discoverPgTools, locatePgRestoreFor, locatePgTool, parsePgToolVersion, type PgToolCandidate,
} from '../../src/dialects/postgres/pgToolDiscovery.js';

const root = mkdtempSync(join(tmpdir(), 'omm-pgtools-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fake client tool: a shell script that prints `version` for --version (or fails with status 1). */
function fakeTool(dir: string, name: string, version: string | null, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, version === null ? '#!/bin/sh\nexit 1\n' : `#!/bin/sh\necho "${name} (PostgreSQL) ${version}"\n`);
  chmodSync(path, mode);
  return path;
}

function candidate(path: string, major: number | undefined, extra: Partial<PgToolCandidate> = {}): PgToolCandidate {
  return { path, source: 'PATH', versionText: major === undefined ? undefined : `pg_dump (PostgreSQL) ${major}.1`, major,
    version: major === undefined ? undefined : `${major}.1`, wrapper: false, ...extra };
}

describe('parsePgToolVersion', () => {
  for (const [text, major, version] of [
    ['pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)', 15, '15.20'],
    ['pg_dump (PostgreSQL) 17.2', 17, '17.2'],
    ['pg_restore (PostgreSQL) 13.0', 13, '13.0'],
    ['pg_dump (PostgreSQL) 9.6.24', 9, '9.6.24'],
    ['pg_dump (PostgreSQL) 18beta1', 18, '18beta1'],
    ['pg_dump (PostgreSQL) 19devel', 19, '19devel'],
    ['pg_dump (PostgreSQL) 16.4 (Ubuntu 16.4-1.pgdg22.04+1)', 16, '16.4'],
  ] as const) {
    it(`${text} → ${major}`, () => assert.deepEqual(parsePgToolVersion(text), { major, version }));
  }
  it('nothing usable → undefined', () => {
    assert.equal(parsePgToolVersion(undefined), undefined);
    assert.equal(parsePgToolVersion(''), undefined);
    assert.equal(parsePgToolVersion('Usage: pg_dump [OPTION]... [DBNAME]'), undefined);
  });
});

describe('discoverPgTools', () => {
  const base = join(root, 'discover');
  const binDir = join(base, 'explicit');
  const pathA = join(base, 'path-a');
  const pathB = join(base, 'path-b');
  const debian = join(base, 'usr-lib-postgresql');
  fakeTool(binDir, 'pg_dump', '17.2');
  fakeTool(pathA, 'pg_dump', '13.0');
  mkdirSync(pathB, { recursive: true });
  symlinkSync(join(binDir, 'pg_dump'), join(pathB, 'pg_dump')); // the explicit one again, through a link
  fakeTool(join(debian, '15', 'bin'), 'pg_dump', '15.20 (Debian 15.20-0+deb12u1)');
  fakeTool(join(debian, '9.6', 'bin'), 'pg_dump', '9.6.24');
  fakeTool(join(debian, 'notaversion', 'bin'), 'pg_dump', '99.0');
  fakeTool(join(base, 'noexec'), 'pg_dump', '16.0', 0o644);
  fakeTool(join(base, 'broken'), 'pg_dump', null);
  const env = { PATH: [pathA, join(base, 'noexec'), pathB, join(base, 'broken'), join(base, 'missing')].join(':') };

  it('finds the explicit dir, then PATH in order, then Debian newest first; one entry per real file', () => {
    const found = discoverPgTools('pg_dump', { binDir, env, debianRoot: debian });
    assert.deepEqual(found.map((c) => [c.path, c.source, c.major]), [
      [join(binDir, 'pg_dump'), 'pg-bin-dir', 17],
      [join(pathA, 'pg_dump'), 'PATH', 13],
      // path-b's link leads to the explicit one: not listed twice; noexec is not executable; missing does not exist
      [join(base, 'broken', 'pg_dump'), 'PATH', undefined],
      [join(debian, '15', 'bin', 'pg_dump'), 'debian', 15],
      [join(debian, '9.6', 'bin', 'pg_dump'), 'debian', 9],
    ]);
    assert.equal(found[0].versionText, 'pg_dump (PostgreSQL) 17.2');
  });

  it('takes --pg-bin-dir only as passed (config.pgBinDir), never OM_MIGRATE_PG_BIN_DIR from the environment (issue 23, point 5)', () => {
    const found = discoverPgTools('pg_dump', { env: { ...env, OM_MIGRATE_PG_BIN_DIR: binDir }, debianRoot: null });
    assert.ok(!found.some((f) => f.source === 'pg-bin-dir'), JSON.stringify(found));
    assert.equal(discoverPgTools('pg_dump', { env, binDir, debianRoot: null })[0].source, 'pg-bin-dir');
  });

  it('looks for pg_restore by its own name', () => {
    assert.deepEqual(discoverPgTools('pg_restore', { binDir, env, debianRoot: debian }), []);
  });
});

describe('choosePgTool', () => {
  it('picks the newest one not older than the server, skipping an older one first on PATH', () => {
    const c = choosePgTool('pg_dump', 14, [candidate('/fake/pg_dump', 13), candidate('/usr/lib/postgresql/15/bin/pg_dump', 15),
      candidate('/opt/pg17/bin/pg_dump', 17)]);
    assert.equal(c.chosen?.path, '/opt/pg17/bin/pg_dump');
    assert.equal(c.problem, undefined);
  });

  it('an equal major qualifies', () => {
    assert.equal(choosePgTool('pg_dump', 15, [candidate('/a/pg_dump', 15)]).chosen?.path, '/a/pg_dump');
  });

  it('on equal majors prefers the versioned binary over Debian\'s pg_wrapper, then search order', () => {
    const c = choosePgTool('pg_dump', 14, [candidate('/usr/bin/pg_dump', 15, { wrapper: true }),
      candidate('/usr/lib/postgresql/15/bin/pg_dump', 15, { source: 'debian' }), candidate('/other/pg_dump', 15)]);
    assert.equal(c.chosen?.path, '/usr/lib/postgresql/15/bin/pg_dump');
  });

  it('blocks when none qualifies, with the current message and the fix', () => {
    const c = choosePgTool('pg_dump', 17, [candidate('/usr/bin/pg_dump', 15)]);
    assert.equal(c.chosen, undefined);
    assert.equal(c.problem, 'pg_dump 15 cannot dump a PostgreSQL 17 server');
    assert.match(c.fix ?? '', /install postgresql-client-17/i);
    assert.match(c.fix ?? '', /--pg-bin-dir \(OM_MIGRATE_PG_BIN_DIR\)/);
  });

  it('lists what it found when there was more than one', () => {
    const c = choosePgTool('pg_dump', 17, [candidate('/usr/bin/pg_dump', 15), candidate('/x/pg_dump', undefined)]);
    assert.match(c.problem ?? '', /^pg_dump 15 cannot dump a PostgreSQL 17 server \(found: \/usr\/bin\/pg_dump \(15\.1\), \/x\/pg_dump \(does not run\)\)$/);
  });

  it('says so when there is no pg_dump at all', () => {
    const c = choosePgTool('pg_dump', 14, []);
    assert.match(c.problem ?? '', /^no pg_dump found/);
    assert.match(c.fix ?? '', /postgresql-client-14/);
  });

  it('an explicit directory wins when it qualifies, even over a newer tool elsewhere', () => {
    const c = choosePgTool('pg_dump', 14, [candidate('/mine/pg_dump', 16, { source: 'pg-bin-dir' }), candidate('/opt/pg17/pg_dump', 17)],
      { explicitDir: '/mine' });
    assert.equal(c.chosen?.path, '/mine/pg_dump');
  });

  it('an explicit directory that does not qualify blocks, naming it, instead of falling back', () => {
    const c = choosePgTool('pg_dump', 16, [candidate('/mine/pg_dump', 15, { source: 'pg-bin-dir' }), candidate('/opt/pg17/pg_dump', 17)],
      { explicitDir: '/mine' });
    assert.equal(c.chosen, undefined);
    assert.equal(c.problem, 'pg_dump 15.1 in --pg-bin-dir /mine cannot dump a PostgreSQL 16 server');
    const empty = choosePgTool('pg_dump', 16, [candidate('/opt/pg17/pg_dump', 17)], { explicitDir: '/nothing-here' });
    assert.equal(empty.problem, '--pg-bin-dir /nothing-here holds no runnable pg_dump');
  });

  it('pg_restore must read the archive: needs the larger of the server and the archive\'s pg_dump major', () => {
    const c = choosePgTool('pg_restore', 17, [candidate('/usr/bin/pg_restore', 15)], { serverMajor: 14 });
    assert.equal(c.problem, 'pg_restore 15 cannot read an archive written by pg_dump 17');
    const ok = choosePgTool('pg_restore', 14, [candidate('/usr/bin/pg_restore', 15)], { serverMajor: 14 });
    assert.equal(ok.chosen?.path, '/usr/bin/pg_restore');
    assert.equal(choosePgTool('pg_restore', 16, [candidate('/r', 15)]).problem, 'pg_restore 15 cannot restore into a PostgreSQL 16 server');
  });
});

describe('locatePgTool / locatePgRestoreFor on real files', () => {
  const base = join(root, 'locate');
  const old = join(base, 'old');
  const pg17 = join(base, 'pg17', 'bin');
  fakeTool(old, 'pg_dump', '13.0');
  fakeTool(old, 'pg_restore', '13.0');
  fakeTool(pg17, 'pg_dump', '17.2');
  fakeTool(pg17, 'pg_restore', '17.2');
  const env = { PATH: `${old}:${pg17}` };

  it('skips the older pg_dump first on PATH', () => {
    const c = locatePgTool('pg_dump', 16, { env, debianRoot: null });
    assert.equal(c.chosen?.path, join(pg17, 'pg_dump'));
    assert.deepEqual(c.candidates.map((x) => x.major), [13, 17]);
  });

  it('pg_restore beside the chosen pg_dump', () => {
    const dump = locatePgTool('pg_dump', 14, { env, debianRoot: null }).chosen!;
    const restore = locatePgRestoreFor(dump, 14, { env, debianRoot: null });
    assert.equal(restore.chosen?.path, join(pg17, 'pg_restore'));
    assert.equal(restore.neededMajor, 17, 'an archive of pg_dump 17 needs pg_restore 17');
  });
});
