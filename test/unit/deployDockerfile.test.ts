import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * Static checks of the multi-target Dockerfile. No Docker engine and no registry here: it is parsed, not built.
 * Each check names the stage and the instruction it looks at, so that a broken file fails with a reason.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Instruction { keyword: string; args: string }
interface Stage { index: number; from: string; image: string; name: string; instructions: Instruction[] }
interface Dockerfile { args: Map<string, string | undefined>; stages: Stage[] }

/** Joins continuation lines, drops comments and blank lines, splits into stages at each FROM. */
function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const args = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(m, `FROM ${rest}: cannot read`);
      assert.ok(m[2], `FROM ${rest}: every stage is named (AS <name>)`);
      stages.push({ index: stages.length, from: m[1], image: substitute(m[1], args), name: m[2], instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      assert.equal(upper, 'ARG', `only ARG may come before the first FROM (found ${upper})`);
      const [name, value] = rest.split('=', 2);
      args.set(name, value);
      continue;
    }
    stages[stages.length - 1].instructions.push({ keyword: upper, args: rest });
  }
  return { args, stages };
}

/** ${NAME} in a FROM is a global ARG: it must have a default, or a plain `docker build` cannot resolve the image. */
function substitute(text: string, args: Map<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    assert.ok(args.has(name), `FROM uses \${${name}}, which is not an ARG declared before the first FROM`);
    const value = args.get(name);
    assert.ok(value !== undefined && value !== '', `ARG ${name} has no default`);
    return value;
  });
}

const dockerfile = parseDockerfile(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
const { stages } = dockerfile;
const byName = new Map(stages.map((s) => [s.name, s]));
const stage = (name: string): Stage => {
  const s = byName.get(name);
  assert.ok(s, `a stage named ${name}`);
  return s;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const last = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword).pop()?.args;
const copiesFrom = (s: Stage, from: string) =>
  s.instructions.filter((i) => i.keyword === 'COPY' && new RegExp(`--from=${from}(\\s|$)`).test(i.args)).map((i) => i.args);
/** The stage a FROM or COPY --from names, following FROM <stage> chains to the external image underneath. */
const baseImage = (s: Stage): string => (byName.has(s.image) && byName.get(s.image)!.index < s.index ? baseImage(byName.get(s.image)!) : s.image);
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
const OM_VERSION = dockerfile.args.get('OM_VERSION');
const PG_MAJOR = Number(dockerfile.args.get('PG_MAJOR'));

describe('Dockerfile: stages and references', () => {
  it('has the three targets, and the slim standalone one is the default (last)', () => {
    for (const name of ['server', 'ingestion', 'standalone']) stage(name);
    assert.equal(stages[stages.length - 1].name, 'standalone', '`docker build .` builds the slim image');
    assert.equal(new Set(stages.map((s) => s.name)).size, stages.length, 'stage names are unique');
  });

  it('every FROM names an earlier stage or an external image with an explicit tag', () => {
    for (const s of stages) {
      if (byName.has(s.image)) {
        assert.ok(byName.get(s.image)!.index < s.index, `${s.name}: FROM ${s.image} is a later stage`);
        continue;
      }
      const m = /^([a-z0-9./_-]+):([A-Za-z0-9._-]+)$/.exec(s.image);
      assert.ok(m, `${s.name}: FROM ${s.from} → ${s.image} is an image with a tag`);
      assert.notEqual(m[2], 'latest', `${s.name}: FROM ${s.image} pins a version`);
    }
  });

  it('every COPY --from names an earlier stage, and copies what that stage produced', () => {
    for (const s of stages) {
      for (const copy of s.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='))) {
        const from = /--from=(\S+)/.exec(copy.args)![1];
        const source = byName.get(from);
        assert.ok(source, `${s.name}: COPY --from=${from} names no stage`);
        assert.ok(source.index < s.index, `${s.name}: COPY --from=${from} names a later stage`);
      }
    }
    // What the om-migrate tree and the pg tools come from.
    const appDir = last(stage('app'), 'WORKDIR');
    for (const target of ['server', 'ingestion', 'standalone']) {
      assert.ok(copiesFrom(stage(target), 'app').some((c) => c.startsWith(`--from=app ${appDir} `)), `${target} copies ${appDir} from app`);
    }
    assert.ok(runs(stage('pgclient-alpine')).some((r) => r.includes('/out/usr/local/bin')), 'pgclient-alpine writes /out');
    for (const target of ['server', 'standalone']) {
      assert.ok(copiesFrom(stage(target), 'pgclient-alpine').includes('--from=pgclient-alpine /out/ /'), `${target} copies /out/ from pgclient-alpine`);
    }
  });

  it('copies only files that exist in the repository (and the lock file for npm ci)', () => {
    for (const s of stages) {
      for (const copy of s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) assert.ok(existsSync(`${ROOT}${source}`), `${s.name}: COPY ${source}`);
      }
    }
    for (const name of ['build', 'app']) {
      assert.ok(stage(name).instructions.some((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json')), `${name}: npm ci needs the lock file`);
    }
    const ignore = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n');
    assert.ok(ignore.includes('node_modules') && ignore.includes('dist'), '.dockerignore keeps host builds out');
  });
});

describe('Dockerfile: om-migrate build', () => {
  it('build compiles with the dev dependencies; app keeps production dependencies and the compiled code only', () => {
    assert.ok(runs(stage('build')).some((r) => /\bnpm ci\b/.test(r)), 'build: npm ci');
    assert.ok(runs(stage('build')).some((r) => /\bnpm run build\b/.test(r)), 'build: npm run build');
    const app = stage('app');
    assert.ok(runs(app).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'app: npm ci --omit=dev');
    assert.ok(!runs(app).some((r) => /npm run build|\btsc\b/.test(r)), 'app compiles nothing');
    const fromBuild = copiesFrom(app, 'build');
    assert.ok(fromBuild.some((c) => /dist\/src\b/.test(c)), 'the compiled code comes from build');
    assert.ok(!fromBuild.some((c) => /dist\/test\b|node_modules/.test(c)), 'neither tests nor dev dependencies');
  });

  it('Node.js is 20 (om-migrate needs >= 20.19, the latest 20.x of the node:20 images), musl for Alpine, glibc for Debian', () => {
    assert.match(pkg.engines.node, /^>=20\.19/);
    assert.match(baseImage(stage('node-alpine')), /^node:20-alpine/);
    assert.match(baseImage(stage('node-debian')), /^node:20-bookworm/, 'the ingestion image is Debian bookworm');
    assert.match(baseImage(stage('app')), /^node:20-/);
  });

  for (const target of ['server', 'ingestion', 'standalone']) {
    it(`${target}: om-migrate is the package bin, on PATH, and proven to start while building`, () => {
      const s = stage(target);
      const appDir = last(stage('app'), 'WORKDIR');
      assert.ok(runs(s).some((r) => r.includes(`ln -s ${appDir}/${pkg.bin['om-migrate']} /usr/local/bin/om-migrate`)),
        `${target} links ${pkg.bin['om-migrate']} as /usr/local/bin/om-migrate`);
      assert.ok(runs(s).some((r) => /om-migrate --version/.test(r) && /pg_dump --version/.test(r)),
        `${target}: a RUN starts om-migrate and pg_dump, so missing libraries fail the build, not the upgrade`);
      assert.ok(s.instructions.some((i) => i.keyword === 'ENV' && /OM_MIGRATE_BACKUP_DIR=\S+/.test(i.args)), `${target}: OM_MIGRATE_BACKUP_DIR`);
    });
  }
});

describe('Dockerfile: server target (OpenMetadata server + om-migrate)', () => {
  const server = stage('server');

  it(`is OpenMetadata's server image at OM_VERSION (${OM_VERSION})`, () => {
    assert.equal(server.image, `openmetadata/server:${OM_VERSION}`);
  });

  it('OM_VERSION has no release as its default: a build that forgets it stops at the FROM instead of pairing releases', () => {
    assert.match(OM_VERSION ?? '', /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'still a valid tag, so the error is "not found", naming it');
    assert.doesNotMatch(OM_VERSION ?? '', /^\d/, 'not a version number');
    assert.match(OM_VERSION ?? '', /OM_VERSION/, 'the tag says what to pass');
  });

  it("keeps OpenMetadata's user, workdir, ENTRYPOINT and CMD exactly", () => {
    assert.equal(last(server, 'USER'), 'openmetadata');
    assert.equal(last(server, 'WORKDIR'), '/opt/openmetadata');
    assert.deepEqual(JSON.parse(last(server, 'ENTRYPOINT') ?? 'null'), ['/bin/bash']);
    assert.deepEqual(JSON.parse(last(server, 'CMD') ?? 'null'), ['/openmetadata-start.sh']);
    const i = server.instructions;
    const lastRun = i.map((x) => x.keyword).lastIndexOf('RUN');
    assert.ok(i.findIndex((x) => x.keyword === 'USER' && x.args === 'openmetadata') > lastRun, 'nothing runs as root after the switch back');
    assert.ok(i.some((x) => x.keyword === 'USER' && x.args === 'root'), 'root only to install');
  });

  it('adds node from the Alpine (musl) image, with the C++ runtime it needs from apk', () => {
    assert.ok(copiesFrom(server, 'node-alpine').includes('--from=node-alpine /usr/local/bin/node /usr/local/bin/node'));
    const installs = runs(server).filter((r) => /apk add/.test(r)).join(' ');
    for (const lib of ['libstdc++', 'libgcc']) assert.ok(installs.includes(lib), lib);
    assert.ok(!/apt-get/.test(runs(server).join(' ')), 'Alpine: apk, not apt');
  });

  it(`adds pg_dump of the newest PostgreSQL major (${PG_MAJOR}) with its libraries, the MariaDB client and zstd`, () => {
    assert.ok(PG_MAJOR >= 17, 'PG_MAJOR is a current major');
    assert.equal(stage('pgclient-alpine').image, `postgres:${PG_MAJOR}-alpine`);
    const pg = runs(stage('pgclient-alpine')).join(' ');
    for (const tool of ['pg_dump', 'pg_restore', 'psql']) assert.ok(pg.includes(`/usr/local/bin/${tool}`), tool);
    assert.ok(pg.includes('libpq.so.5'), 'libpq comes along');
    assert.ok(/scanelf --needed/.test(pg) && pg.includes('pgclient-deps.txt'), 'the libraries they need are listed');
    const installs = runs(server).filter((r) => /apk add/.test(r)).join(' ');
    assert.ok(installs.includes('$(cat /usr/local/share/om-migrate/pgclient-deps.txt)'), 'and installed');
    for (const p of ['mariadb-client', 'zstd']) assert.match(installs, new RegExp(`\\b${p}\\b`), p);
  });

  it('creates the backup directory for the openmetadata user', () => {
    const backupDir = /OM_MIGRATE_BACKUP_DIR=(\S+)/.exec(server.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' '))![1];
    assert.ok(runs(server).some((r) => new RegExp(`install -d -o openmetadata -g openmetadata -m 0700 .*${backupDir}\\b`).test(r)), backupDir);
  });
});

describe('Dockerfile: ingestion target (OpenMetadata ingestion / Airflow + om-migrate)', () => {
  const ingestion = stage('ingestion');

  it(`is OpenMetadata's ingestion image at the same OM_VERSION (${OM_VERSION})`, () => {
    assert.equal(ingestion.image, `openmetadata/ingestion:${OM_VERSION}`);
  });

  it("keeps the image's own user and start command (no ENTRYPOINT/CMD of its own)", () => {
    assert.equal(last(ingestion, 'USER'), 'airflow');
    assert.equal(last(ingestion, 'ENTRYPOINT'), undefined, 'ENTRYPOINT inherited');
    assert.equal(last(ingestion, 'CMD'), undefined, 'CMD inherited');
    const i = ingestion.instructions;
    assert.ok(i.map((x) => x.keyword).lastIndexOf('USER') > i.map((x) => x.keyword).lastIndexOf('RUN'), 'back to airflow after the last RUN');
  });

  it('adds node from the Debian (glibc) image and pg_dump of the newest major ahead of Debian\'s', () => {
    assert.ok(copiesFrom(ingestion, 'node-debian').includes('--from=node-debian /usr/local/bin/node /usr/local/bin/node'));
    const all = runs(ingestion).join(' ');
    assert.ok(all.includes('/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y'), 'the PostgreSQL apt repository');
    assert.ok(all.includes('postgresql-client-${PG_MAJOR}'), 'postgresql-client-${PG_MAJOR}');
    assert.ok(all.includes('ln -sf /usr/lib/postgresql/${PG_MAJOR}/bin/$tool /usr/local/bin/$tool'), 'linked ahead of pg_wrapper');
    assert.ok(ingestion.instructions.some((x) => x.keyword === 'ARG' && x.args === 'PG_MAJOR'), 'PG_MAJOR is in scope in the stage');
    assert.ok(all.includes('mariadb-client-core') && !/\bmariadb-client\s/.test(all), "the MariaDB client programs, not a mysqldump over the image's own");
    assert.ok(all.includes('rm -rf /var/lib/apt/lists'), 'apt lists cleaned');
  });
});

describe('Dockerfile: standalone target', () => {
  const standalone = stage('standalone');

  it('is a small Node 20 Alpine image with the client tools', () => {
    assert.match(baseImage(standalone), /^node:20-alpine/);
    const installs = runs(standalone).filter((r) => /apk add/.test(r)).join(' ');
    for (const p of ['mariadb-client', 'zstd', 'tini']) assert.match(installs, new RegExp(`\\b${p}\\b`), p);
    assert.ok(installs.includes('pgclient-deps.txt'));
  });

  it('runs as a non-root user created in the image, set after the last RUN', () => {
    const user = last(standalone, 'USER');
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user} is not root`);
    assert.ok(runs(standalone).some((r) => r.includes('adduser') && r.includes(user)), 'the user is created');
    const i = standalone.instructions;
    assert.ok(i.map((x) => x.keyword).lastIndexOf('USER') > i.map((x) => x.keyword).lastIndexOf('RUN'));
  });

  it('the entrypoint is om-migrate under tini, in exec form', () => {
    const argv = JSON.parse(last(standalone, 'ENTRYPOINT') ?? 'null') as string[];
    assert.deepEqual(argv, ['/sbin/tini', '--', 'om-migrate']);
  });
});
