import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { resolveConfig } from '../../src/config/resolveConfig.js';

/**
 * The top-level docker-compose.yml (MySQL) and docker-compose.postgres.yml: a whole OpenMetadata stack built from this
 * repository's Dockerfile targets. Debian's docker-compose 1.29 `config` validates, interpolates and merges them
 * offline; the model it prints is checked here (services, build targets, the one required OM_VERSION, the order of
 * the one-shots and what each one resolves with om-migrate's own configuration code). No image is built here.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Service {
  build?: { context: string; target: string; args?: Record<string, string> };
  image?: string;
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string>;
  secrets?: { source: string }[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface Compose { services: Record<string, Service>; volumes?: Record<string, unknown>; secrets?: Record<string, { file?: string }> }

const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const SKIP = probe.error || probe.status !== 0 ? 'docker-compose (1.29, Debian package docker-compose) is not installed' : false;

function run(file: string, vars: Record<string, string>) {
  return spawnSync('docker-compose', ['-f', file, 'config'], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...vars },
  });
}
function config(file: string, vars: Record<string, string>): Compose {
  const result = run(file, vars);
  assert.equal(result.status, 0, `docker-compose -f ${file} config failed:\n${result.stderr}`);
  return parse(result.stdout) as Compose;
}
/** The environment a container sees, each /run/secrets/NAME resolved to the file compose would mount there. */
function env(compose: Compose, s: Service): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    const secret = /^\/run\/secrets\/(.+)$/.exec(v)?.[1];
    out[k] = secret && s.secrets?.some((x) => x.source === secret) ? compose.secrets?.[secret]?.file ?? v : v;
  }
  return out;
}

const STACKS = [
  { file: 'docker-compose.yml', db: 'mysql', engine: 'mysql', dbImage: 'docker.getcollate.io/openmetadata/db' },
  { file: 'docker-compose.postgres.yml', db: 'postgresql', engine: 'postgres', dbImage: 'docker.getcollate.io/openmetadata/postgresql' },
] as const;
const VERSION = '1.13.1';
const SERVICES = ['elasticsearch', 'execute-airflow-migrate', 'execute-migrate-all', 'ingestion', 'openmetadata-server'];

for (const stack of STACKS) {
  describe(`${stack.file}: the whole stack`, { skip: SKIP }, () => {
    // The stand-in admin URL files of the quickstart tests (test/fixtures/quickstart/om-migrate-secrets/).
    const secret = stack.engine === 'mysql' ? 'admin-url' : 'admin-url-postgres';
    const vars = { OM_VERSION: VERSION, OM_MIGRATE_ADMIN_URL_SECRET_FILE: `./test/fixtures/quickstart/om-migrate-secrets/${secret}`,
      OM_MIGRATE_AIRFLOW_ADMIN_URL_SECRET_FILE: `./test/fixtures/quickstart/om-migrate-secrets/${secret}` };
    const c = SKIP ? undefined! : config(stack.file, vars);
    const s = (name: string) => {
      assert.ok(c.services[name], `service ${name}`);
      return c.services[name];
    };

    it('OM_VERSION is required: without it compose refuses the file and says what to set', () => {
      const result = run(stack.file, {});
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /set OM_VERSION to the OpenMetadata release/);
    });

    it('has the database, search, the two one-shots, the server and the ingestion', () => {
      assert.deepEqual(Object.keys(c.services).sort(), [...SERVICES, stack.db].sort());
      assert.equal(s(stack.db).image, `${stack.dbImage}:${VERSION}`, "OpenMetadata's database image of the release");
    });

    it('builds every OpenMetadata image from the Dockerfile targets at OM_VERSION, and names it by that version', () => {
      for (const [name, target] of [['execute-migrate-all', 'server'], ['openmetadata-server', 'server'], ['execute-airflow-migrate', 'ingestion'], ['ingestion', 'ingestion']]) {
        const b = s(name).build;
        assert.equal(b?.context, ROOT.replace(/\/$/, ''), `${name}: built from this repository`);
        assert.equal(b?.target, target, `${name}: target ${target}`);
        assert.deepEqual(b?.args, { OM_VERSION: VERSION }, `${name}: at OM_VERSION`);
        assert.equal(s(name).image, `om-migrate/${target}:${VERSION}`, `${name}: the image is named by the version`);
      }
    });

    it('om-migrate runs before the server (service_completed_successfully) and the Airflow side before the ingestion', () => {
      const migrate = s('execute-migrate-all');
      assert.deepEqual(migrate.entrypoint, ['om-migrate']);
      assert.deepEqual(migrate.command, ['up']);
      assert.equal(migrate.depends_on?.[stack.db]?.condition, 'service_healthy');
      assert.equal(migrate.depends_on?.elasticsearch?.condition, 'service_healthy', "OpenMetadata's migrate updates the search indexes");
      assert.equal(s('openmetadata-server').depends_on?.['execute-migrate-all']?.condition, 'service_completed_successfully');
      const airflow = s('execute-airflow-migrate');
      assert.deepEqual(airflow.entrypoint, ['om-migrate']);
      assert.deepEqual(airflow.command, ['up']);
      assert.equal(airflow.depends_on?.['execute-migrate-all']?.condition, 'service_completed_successfully', 'never two backups of one server at once');
      assert.equal(s('ingestion').depends_on?.['execute-airflow-migrate']?.condition, 'service_completed_successfully');
      assert.equal(s('openmetadata-server').entrypoint, undefined, "the server starts with its image's own entrypoint");
    });

    it("the migration gets the server's whole environment, and both resolve the same OpenMetadata database", () => {
      const server = env(c, s('openmetadata-server'));
      const migrate = env(c, s('execute-migrate-all'));
      for (const [k, v] of Object.entries(server)) assert.equal(migrate[k], v, `execute-migrate-all ${k}`);
      const extra = Object.keys(migrate).filter((k) => !(k in server)).sort();
      assert.deepEqual(extra, ['OM_MIGRATE_ADMIN_URL_FILE', 'OM_MIGRATE_BACKUP_DIR', 'OM_MIGRATE_LOCK_TIMEOUT', 'OM_MIGRATE_YES'], 'only om-migrate settings added');
      const resolved = resolveConfig({}, migrate);
      assert.equal(resolved.openmetadata?.engine, stack.engine);
      assert.equal(resolved.openmetadata?.host, stack.db);
      assert.equal(resolved.openmetadata?.database, 'openmetadata_db');
      assert.equal(resolved.airflow, undefined);
      assert.equal(resolved.admin?.engine, stack.engine, "the admin URL is for the database's server");
      assert.equal(resolved.backupKeep, undefined, 'nothing pruned unattended');
    });

    it("the Airflow one-shot resolves the ingestion's own Airflow database", () => {
      const ingestion = resolveConfig({}, env(c, s('ingestion'))).airflow;
      const got = resolveConfig({}, env(c, s('execute-airflow-migrate')));
      assert.ok(ingestion && got.airflow);
      for (const f of ['engine', 'host', 'port', 'user', 'password', 'database'] as const) assert.equal(got.airflow[f], ingestion[f], `Airflow database ${f}`);
      assert.equal(got.airflow.engine, stack.engine);
      assert.equal(got.openmetadata, undefined);
      assert.equal(got.airflowAdmin?.host, stack.db);
    });

    it('admin URLs only through compose secrets; backups on named volumes, one per image user', () => {
      for (const [name, service] of Object.entries(c.services)) {
        for (const k of ['OM_MIGRATE_ADMIN_URL', 'OM_MIGRATE_AIRFLOW_ADMIN_URL', 'OM_MIGRATE_BACKUP_KEEP']) assert.ok(!(k in (service.environment ?? {})), `${name} sets ${k}`);
      }
      const claims = new Set<string>();
      for (const name of ['execute-migrate-all', 'execute-airflow-migrate']) {
        const service = s(name);
        const dir = service.environment?.OM_MIGRATE_BACKUP_DIR;
        const mount = (service.volumes ?? []).map((v) => v.split(':')).find((p) => p[1] === dir);
        assert.ok(mount && c.volumes && mount[0] in c.volumes, `${name}: a named volume on ${dir}`);
        claims.add(mount[0]);
        assert.ok(service.secrets?.length === 1, `${name}: its admin secret`);
      }
      assert.equal(claims.size, 2);
    });
  });
}

describe('docker-compose.postgres.yml is docker-compose.yml on PostgreSQL, nothing else', { skip: SKIP }, () => {
  it('every service other than the database is the same once the database settings are set aside', () => {
    const vars = { OM_VERSION: VERSION };
    const [mysql, pg] = STACKS.map((st) => config(st.file, vars));
    const dbKeys = new Set(['DB_DRIVER_CLASS', 'DB_SCHEME', 'DB_HOST', 'DB_PORT']);
    const normal = (svc: Service, db: string) => JSON.parse(JSON.stringify(svc, (k, v: unknown) => {
      if (k === 'environment' && v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([e]) => !dbKeys.has(e)));
      if (k === 'depends_on' && v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([d, x]) => [d === db ? 'DATABASE' : d, x]));
      return v;
    })) as unknown;
    for (const name of SERVICES) assert.deepEqual(normal(pg.services[name], 'postgresql'), normal(mysql.services[name], 'mysql'), name);
    assert.deepEqual(pg.secrets, mysql.secrets);
    assert.deepEqual(Object.keys(pg.volumes ?? {}).sort(), Object.keys(mysql.volumes ?? {}).sort());
  });
});

describe('the documented compose commands, run as far as this machine can', { skip: SKIP }, () => {
  const readme = readFileSync(`${ROOT}deploy/README.md`, 'utf8');
  const FIRST = ['echo OM_VERSION=1.13.1 > .env',
    "install -d -m 0700 om-migrate-secrets && printf '%s' 'mysql://root:password@mysql:3306/' > om-migrate-secrets/admin-url && chmod 0644 om-migrate-secrets/admin-url"];
  const UPGRADE = "sed -i 's/^OM_VERSION=.*/OM_VERSION=1.13.2/' .env";

  it('deploy/README.md shows these lines, and docker compose build, stop and up -d after them', () => {
    for (const line of [...FIRST, UPGRADE, 'docker compose build && docker compose up -d', 'docker compose stop openmetadata-server ingestion', 'docker compose up -d']) {
      assert.ok(readme.includes(line), line);
    }
  });

  it('in a fresh directory: .env and the secret they make are what compose and om-migrate read; the upgrade line moves every image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-stack-'));
    copyFileSync(`${ROOT}docker-compose.yml`, join(dir, 'docker-compose.yml'));
    for (const line of FIRST) assert.equal(spawnSync('bash', ['-c', line], { cwd: dir }).status, 0, line);
    assert.equal(statSync(join(dir, 'om-migrate-secrets')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'om-migrate-secrets/admin-url')).mode & 0o777, 0o644);
    const cfg = (): Compose => {
      const r = spawnSync('docker-compose', ['config'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
      assert.equal(r.status, 0, r.stderr);
      return parse(r.stdout) as Compose;
    };
    const first = cfg();
    assert.equal(first.services['execute-migrate-all'].image, 'om-migrate/server:1.13.1', 'OM_VERSION from .env');
    const migrate = env(first, first.services['execute-migrate-all']);
    const resolved = resolveConfig({}, migrate);
    assert.equal(resolved.admin?.host, 'mysql', 'the secret the command wrote is an admin URL om-migrate accepts, for the stack\'s MySQL');
    assert.equal(spawnSync('bash', ['-c', UPGRADE], { cwd: dir }).status, 0);
    const upgraded = cfg();
    for (const name of ['execute-migrate-all', 'openmetadata-server', 'execute-airflow-migrate', 'ingestion', 'mysql']) {
      assert.match(String(upgraded.services[name].image), /:1\.13\.2$/, name);
    }
  });
});
