import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * .github/workflows/ci.yml runs the suite against every server family and major om-migrate supports. This checks
 * what GitHub would only reveal on a push: the matrix covers the servers, each service has a health check (else
 * the tests start against a server still initialising), and every server address the test helpers read from the
 * environment is set to a service of that job.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const WORKFLOW = join(REPO, '.github', 'workflows', 'ci.yml');

/** The servers the suite must meet at least once. */
export const REQUIRED_IMAGES = [
  'mysql:8.0', 'mysql:8.4', 'mariadb:10.11', 'mariadb:11.4',
  'postgres:12', 'postgres:13', 'postgres:14', 'postgres:15', 'postgres:16', 'postgres:17',
];

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** OM_MIGRATE_TEST_*_URL names that test/helpers read (servers.ts today), found in the source so a new one is caught. */
export function helperServerEnvNames(): string[] {
  const dir = join(REPO, 'test', 'helpers');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/process\.env\.(OM_MIGRATE_TEST_[A-Z0-9_]+_URL)\b/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/** Every matrix combination of a job: the cartesian axes, or the include entries when there are no axes. */
function combinations(job: Doc): Array<Record<string, string>> {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [{}];
  const axes = Object.entries(matrix).filter(([k]) => k !== 'include' && k !== 'exclude') as Array<[string, unknown[]]>;
  let combos: Array<Record<string, string>> = [{}];
  for (const [key, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: String(v) })));
  const include = (matrix.include ?? []) as Array<Record<string, unknown>>;
  const strings = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
  if (axes.length === 0) return include.length ? include.map(strings) : [{}];
  return [...combos, ...include.map(strings)];
}

/** `${{ matrix.x }}` replaced; an unknown key becomes '' (and is then reported by whoever needed it). */
function substitute(text: unknown, combo: Record<string, string>): string {
  return String(text ?? '').replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, key: string) => combo[key] ?? '');
}

/** The problems of a parsed workflow; [] when it is right. */
export function checkWorkflow(doc: Doc, envNames: string[] = helperServerEnvNames()): string[] {
  const problems: string[] = [];
  const jobs = (doc?.jobs ?? {}) as Record<string, Doc>;
  if (Object.keys(jobs).length === 0) return ['no jobs'];
  const met = new Set<string>();
  const serviceJobs = Object.entries(jobs).filter(([, job]) => job.services && Object.keys(job.services).length > 0);
  if (serviceJobs.length === 0) problems.push('no job has service containers');

  for (const [jobName, job] of serviceJobs) {
    const steps = (job.steps ?? []) as Doc[];
    if (!steps.some((s) => /\bnpm (run )?test\b/.test(String(s.run ?? '')))) problems.push(`${jobName}: no step runs npm test`);
    for (const combo of combinations(job)) {
      const label = `${jobName}${Object.keys(combo).length ? ` ${JSON.stringify(combo)}` : ''}`;
      const services = job.services as Record<string, Doc>;
      const images: Record<string, string> = {};
      for (const [name, service] of Object.entries(services)) {
        const image = substitute(service.image, combo);
        images[name] = image;
        if (!/^[\w./-]+:[\w.-]+$/.test(image)) problems.push(`${label}: service ${name} has no usable image ("${image}")`);
        met.add(image);
        const health = /--health-cmd[= ]+("([^"]*)"|'([^']*)'|(\S+))/.exec(substitute(service.options, combo));
        const command = (health?.[2] ?? health?.[3] ?? health?.[4] ?? '').trim();
        if (!command) problems.push(`${label}: service ${name} (${image}) has no health check (--health-cmd in options)`);
      }
      const env = { ...(doc.env ?? {}), ...(job.env ?? {}) } as Record<string, unknown>;
      for (const envName of envNames) {
        const value = env[envName] === undefined ? undefined : substitute(env[envName], combo);
        if (!value) {
          problems.push(`${label}: ${envName} is not set (test/helpers read it)`);
          continue;
        }
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          problems.push(`${label}: ${envName} is not a URL: ${value}`);
          continue;
        }
        const wantsPostgres = /^postgres(ql)?:$/.test(url.protocol);
        const family = wantsPostgres ? /^postgres:/ : /^(mysql|mariadb):/;
        const target = images[url.hostname];
        if (target === undefined) problems.push(`${label}: ${envName} points at host "${url.hostname}", which is none of the services (${Object.keys(images).join(', ')})`);
        else if (!family.test(target)) problems.push(`${label}: ${envName} (${url.protocol}) points at service ${url.hostname}, which runs ${target}`);
        const port = Number(url.port || (wantsPostgres ? 5432 : 3306));
        if (port !== (wantsPostgres ? 5432 : 3306)) problems.push(`${label}: ${envName} uses port ${port}; a service container listens on its image's default`);
      }
    }
  }
  for (const image of REQUIRED_IMAGES) if (!met.has(image)) problems.push(`no job runs against ${image}`);
  return problems;
}

function workflow(): Doc {
  return parse(readFileSync(WORKFLOW, 'utf8')) as Doc;
}

describe('.github/workflows/ci.yml', () => {
  it('parses, covers MySQL 8.0/8.4, MariaDB 10.11/11.4 and PostgreSQL 12–17, with health checks and the helpers\' server URLs', () => {
    assert.deepEqual(checkWorkflow(workflow()), []);
  });

  it('the helpers read the server URLs this check looks for', () => {
    assert.deepEqual(helperServerEnvNames(), ['OM_MIGRATE_TEST_MYSQL_URL', 'OM_MIGRATE_TEST_PG_URL']);
  });

  it('the embedded PostgreSQL matrix runs somewhere, and the service jobs leave it to that job', () => {
    const doc = workflow();
    const runs = Object.values(doc.jobs as Record<string, Doc>).flatMap((j) => (j.steps ?? []).map((s: Doc) => String(s.run ?? '')));
    assert.ok(runs.some((r) => r.includes('pgMatrix.test.js')), 'a job runs dist/test/integration/pgMatrix.test.js');
    for (const job of Object.values(doc.jobs as Record<string, Doc>)) if (job.services) assert.equal(job.env?.OM_MIGRATE_PG_MATRIX, 'none');
  });

  describe('fails on a broken workflow', () => {
    const broken = (mutate: (doc: Doc) => void): string[] => {
      const doc = workflow();
      mutate(doc);
      return checkWorkflow(doc);
    };
    const suite = (doc: Doc) => doc.jobs.suite as Doc;

    it('a PostgreSQL major dropped from the matrix', () => {
      const problems = broken((d) => { suite(d).strategy.matrix.include = suite(d).strategy.matrix.include.filter((e: Doc) => e.pg !== '17'); });
      assert.deepEqual(problems, ['no job runs against postgres:17']);
    });

    it('a MySQL-family server dropped', () => {
      const problems = broken((d) => {
        for (const e of suite(d).strategy.matrix.include) if (e['mysql-image'] === 'mariadb:11.4') e['mysql-image'] = 'mariadb:10.11';
      });
      assert.deepEqual(problems, ['no job runs against mariadb:11.4']);
    });

    it('a service without a health check', () => {
      const problems = broken((d) => { delete suite(d).services.postgres.options; });
      assert.equal(problems.length, 6, problems.join('\n'));
      assert.ok(problems.every((p) => /service postgres \(postgres:1\d\) has no health check/.test(p)), problems.join('\n'));
    });

    it('a health check whose matrix value is missing', () => {
      const problems = broken((d) => { for (const e of suite(d).strategy.matrix.include) delete e['mysql-health']; });
      assert.ok(problems.length > 0 && problems.every((p) => /service mysql .* has no health check/.test(p)), problems.join('\n'));
    });

    it('a server URL the helpers read is not set', () => {
      const problems = broken((d) => { delete suite(d).env.OM_MIGRATE_TEST_PG_URL; });
      assert.equal(problems.length, 6);
      assert.match(problems[0], /OM_MIGRATE_TEST_PG_URL is not set/);
    });

    it('a server URL pointing at no service, or at the wrong family', () => {
      assert.match(broken((d) => { suite(d).env.OM_MIGRATE_TEST_MYSQL_URL = 'mysql://root@127.0.0.1:3306/'; })[0],
        /OM_MIGRATE_TEST_MYSQL_URL points at host "127\.0\.0\.1", which is none of the services/);
      assert.match(broken((d) => { suite(d).env.OM_MIGRATE_TEST_PG_URL = 'postgresql://postgres@mysql:5432/postgres'; })[0],
        /OM_MIGRATE_TEST_PG_URL \(postgresql:\) points at service mysql, which runs mysql:8\.0/);
    });

    it('no job runs the suite', () => {
      assert.ok(broken((d) => { suite(d).steps = suite(d).steps.filter((s: Doc) => !/npm test/.test(String(s.run ?? ''))); })
        .includes('suite: no step runs npm test'));
    });

    it('not YAML at all', () => {
      assert.throws(() => parse('jobs:\n  suite: [unclosed\n'));
      assert.deepEqual(checkWorkflow(parse('name: ci\n') as Doc), ['no jobs']);
    });
  });
});
