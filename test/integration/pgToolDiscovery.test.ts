import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../helpers/embeddedPostgres.js';
import { locatePgRestoreFor, locatePgTool } from '../../src/dialects/postgres/pgToolDiscovery.js';
import { PostgresDumpTool } from '../../src/dialects/postgres/PostgresDumpTool.js';
import type { ServerInfo } from '../../src/dialects/types.js';

/**
 * pg_dump discovery (src/dialects/postgres/pgToolDiscovery.ts) against real servers: Debian's client tools reached only through a custom directory
 * of symlinks (as --pg-bin-dir would name it), an older fake pg_dump first on PATH, and a PostgreSQL 14 server it
 * must dump.
 */
function newestDebianBin(): { dir: string; major: number } | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).map(Number).filter((n) => n >= 14 && existsSync(join(root, String(n), 'bin', 'pg_dump')));
  if (majors.length === 0) return undefined;
  const major = Math.max(...majors);
  return { dir: join(root, String(major), 'bin'), major };
}

const debian = newestDebianBin();

describe('pg_dump discovery on real servers', { skip: debian ? false : 'no Debian client tools of major ≥ 14 under /usr/lib/postgresql' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'omm-pgtools-it-'));
  const custom = join(work, 'pg-bin');
  const fake = join(work, 'fake-old');
  let pg14: EmbeddedPostgres;

  before(async () => {
    mkdirSync(custom);
    for (const tool of ['pg_dump', 'pg_restore']) symlinkSync(join(debian!.dir, tool), join(custom, tool));
    mkdirSync(fake);
    writeFileSync(join(fake, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 13.0"\n');
    chmodSync(join(fake, 'pg_dump'), 0o755);
    pg14 = await startEmbeddedPostgres(14);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ host: '127.0.0.1', port: pg14.port, user: 'postgres', database: 'postgres' });
    await c.connect();
    await c.query("CREATE TABLE discovery_probe (id int PRIMARY KEY, note text); INSERT INTO discovery_probe VALUES (1, 'dumped by the discovered pg_dump')");
    await c.end();
  });
  after(async () => {
    await pg14?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  // PATH: the fake 13 and nothing else (/usr/bin, and /bin with a merged /usr, hold Debian's pg_wrapper).
  const env = () => ({ PATH: fake });

  it(`chooses pg_dump ${debian?.major} from the custom directory for PostgreSQL 14, skipping the fake 13 first on PATH, and it dumps`, () => {
    const choice = locatePgTool('pg_dump', 14, { env: env(), binDir: custom, debianRoot: null });
    assert.equal(choice.problem, undefined, choice.problem);
    assert.equal(choice.chosen?.path, join(custom, 'pg_dump'));
    assert.equal(choice.chosen?.source, 'pg-bin-dir');
    assert.equal(choice.chosen?.major, debian!.major);
    assert.deepEqual(choice.candidates.map((c) => `${c.source}:${c.major}`), [`pg-bin-dir:${debian!.major}`, 'PATH:13']);

    const file = join(work, 'probe.dump');
    const dump = spawnSync(choice.chosen!.path, [`--host=127.0.0.1`, `--port=${pg14.port}`, '--username=postgres', '--format=custom',
      '--no-password', `--file=${file}`, '--dbname=postgres'], { encoding: 'utf8', env: { PATH: '/bin' } });
    assert.equal(dump.status, 0, dump.stderr);
    assert.ok(statSync(file).size > 0);

    const restore = locatePgRestoreFor(choice.chosen!, 14, { env: env(), binDir: custom, debianRoot: null });
    assert.equal(restore.chosen?.path, join(custom, 'pg_restore'), 'pg_restore beside the chosen pg_dump');
    const list = spawnSync(restore.chosen!.path, ['--list', file], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /TABLE public discovery_probe/);
  });

  it('with the Debian root searched too, the same binary is found once and still chosen from the custom directory', () => {
    const choice = locatePgTool('pg_dump', 14, { env: env(), binDir: custom });
    assert.equal(choice.chosen?.path, join(custom, 'pg_dump'));
    assert.equal(choice.candidates.filter((c) => c.major === debian!.major && c.source === 'debian').length, 0,
      'the Debian path is the same file as the symlink: listed once, under the directory that named it first');
  });

  it(`restore: an archive written by pg_dump ${(debian?.major ?? 0) + 2} needs a pg_restore that new, even into an older server`, () => {
    const server: ServerInfo = { flavour: 'postgres', version: '14.23', versionText: '', managed: undefined, floor: '12.0', belowFloor: false };
    const tooling = new PostgresDumpTool();
    const own = tooling.locateRestore(server, env(), { pgBinDir: custom, archiveToolVersion: `pg_dump (PostgreSQL) ${debian!.major}.1` });
    assert.equal(own.path, join(custom, 'pg_restore'), own.problem);
    const newer = debian!.major + 2;
    const refused = tooling.locateRestore(server, env(), { pgBinDir: custom, archiveToolVersion: `pg_dump (PostgreSQL) ${newer}.1` });
    assert.equal(refused.path, undefined);
    assert.match(refused.problem ?? '', new RegExp(`pg_restore ${debian!.major}\\.\\d+ in --pg-bin-dir .* cannot read an archive written by pg_dump ${newer}`));
    assert.match(refused.fix ?? '', new RegExp(`postgresql-client-${newer}`));
  });

  it('the fake 13 alone on PATH blocks PostgreSQL 14 with the fix', () => {
    const choice = locatePgTool('pg_dump', 14, { env: { PATH: fake }, debianRoot: null });
    assert.equal(choice.chosen, undefined);
    assert.equal(choice.problem, 'pg_dump 13 cannot dump a PostgreSQL 14 server');
    assert.match(choice.fix ?? '', /postgresql-client-14/);
  });

  it(`nothing on this machine dumps a server newer than ${debian?.major}: blocked, naming what was found`, () => {
    const newer = debian!.major + 1;
    const choice = locatePgTool('pg_dump', newer, { env: { PATH: `${fake}:/usr/bin:/bin` } });
    assert.equal(choice.chosen, undefined);
    assert.match(choice.problem ?? '', new RegExp(`^pg_dump ${debian!.major} cannot dump a PostgreSQL ${newer} server \\(found: `));
    assert.match(choice.fix ?? '', new RegExp(`postgresql-client-${newer}.*--pg-bin-dir`));
  });
});
