import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** Static checks of the Dockerfile: no Docker engine runs here, so it is read line by line, not built. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Instruction { keyword: string; args: string; stage: number }
interface Stage { index: number; image: string; name: string | undefined; instructions: Instruction[] }

/** Joins continuation lines, drops comments and blank lines, splits into stages at each FROM. */
function parseDockerfile(text: string): Stage[] {
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
  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ index: stages.length, image: m[1], name: m[2], instructions: [] });
    }
    if (stages.length === 0) continue; // ARG before the first FROM
    stages[stages.length - 1].instructions.push({ keyword: upper, args, stage: stages.length - 1 });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
const runtime = stages[stages.length - 1];
const build = stages[0];
const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

describe('Dockerfile', () => {
  it('is multi-stage: a named build stage, then a small Node 20 runtime', () => {
    assert.ok(stages.length >= 2, 'at least two FROMs');
    assert.ok(build.name, 'the build stage is named');
    assert.match(build.image, /^node:20(\b|-)/);
    assert.match(runtime.image, /^node:20-(bookworm-slim|slim|alpine)/);
    assert.notEqual(runtime.name, build.name);
  });

  it('builds with npm ci and npm run build; the runtime installs production dependencies only', () => {
    assert.ok(runs(build).some((r) => /\bnpm ci\b/.test(r)), 'build: npm ci');
    assert.ok(runs(build).some((r) => /\bnpm run build\b/.test(r)), 'build: npm run build');
    assert.ok(runs(runtime).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'runtime: npm ci --omit=dev');
    assert.ok(!runs(runtime).some((r) => /npm run build|\btsc\b/.test(r)), 'runtime compiles nothing');
    const fromBuild = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes(`--from=${build.name}`));
    assert.ok(fromBuild.some((i) => /dist\/src\b/.test(i.args)), 'the compiled code comes from the build stage');
    assert.ok(!fromBuild.some((i) => /dist\/test\b|node_modules/.test(i.args)), 'neither tests nor dev dependencies are copied');
  });

  it('installs the MySQL/MariaDB and PostgreSQL client tools and zstd in the runtime', () => {
    const installs = runs(runtime).filter((r) => /apt-get install|apk add/.test(r)).join(' ');
    for (const pkg of ['mariadb-client', 'postgresql-client', 'zstd']) assert.match(installs, new RegExp(`\\b${pkg}\\b`), pkg);
    assert.ok(runs(runtime).some((r) => /rm -rf \/var\/lib\/apt\/lists/.test(r)), 'apt lists cleaned');
  });

  it('runs as a non-root user, set after the last RUN', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.ok(users.length > 0, 'a USER in the runtime stage');
    const last = users[users.length - 1];
    assert.ok(!/^(root|0)(:|$)/.test(last.args), `USER ${last.args} is not root`);
    const lastUser = runtime.instructions.lastIndexOf(last);
    const lastRun = runtime.instructions.map((i) => i.keyword).lastIndexOf('RUN');
    assert.ok(lastUser > lastRun, 'nothing runs as root after the switch');
    assert.ok(runs(runtime).some((r) => r.includes(`useradd`) && r.includes(last.args.split(':')[0])), 'the user is created');
  });

  it('the entrypoint is om-migrate, in exec form, and the om-migrate command is the package bin', () => {
    const entrypoint = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').pop();
    assert.ok(entrypoint, 'an ENTRYPOINT');
    const argv = JSON.parse(entrypoint.args) as string[];
    assert.equal(argv[argv.length - 1], 'om-migrate');
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { bin: Record<string, string> };
    const link = runs(runtime).find((r) => /ln -s\s+\S+\s+\S*\/om-migrate\b/.test(r));
    assert.ok(link, 'om-migrate is linked onto PATH');
    assert.ok(link.includes(pkg.bin['om-migrate']), `the link points at ${pkg.bin['om-migrate']}`);
  });

  it('copies only what exists in the repository, and the lock file', () => {
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) assert.ok(existsSync(`${ROOT}${source}`), `COPY ${source}`);
      }
    }
    assert.ok(build.instructions.some((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json')), 'npm ci needs the lock file');
    const ignore = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n');
    assert.ok(ignore.includes('node_modules') && ignore.includes('dist'), '.dockerignore keeps host builds out');
  });
});
