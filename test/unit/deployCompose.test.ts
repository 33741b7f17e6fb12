import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { resolveConfig } from '../../src/config/resolveConfig.js';

/**
 * deploy/compose/om-migrate.yml merged with a stand-in of OpenMetadata's quickstart (test/fixtures/quickstart/), by
 * Debian's docker-compose 1.29, which validates, interpolates and merges compose files without an engine:
 * `docker-compose -f quickstart -f override config`. The merged configuration is compared with the stand-in's own
 * `config` output service by service: only the intended changes may differ.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OVERRIDE = 'deploy/compose/om-migrate.yml';

interface Service {
  image?: string;
  container_name?: string;
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string>;
  secrets?: { source: string }[];
  volumes?: string[];
  networks?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition: string }>;
  [key: string]: unknown;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const SKIP = probe.error || probe.status !== 0
  ? 'docker-compose (1.29, Debian package docker-compose) is not installed: the merged compose files cannot be checked'
  : false;

/**
 * `docker-compose -f … config`, in a clean environment so that no variable of this process leaks into the files
 * (`vars` play the part of the user's shell or .env file).
 */
function config(files: string[], vars: Record<string, string> = {}): Compose {
  const result = spawnSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...vars },
  });
  assert.equal(result.status, 0, `docker-compose ${files.join(' + ')} config failed:\n${result.stderr}`);
  const compose = parse(result.stdout) as Compose;
  // docker-compose 1.29 spells a few things differently once a second file is merged in: a service's
  // `networks: {app_net: null}` becomes `{app_net: {}}` (even in services that file does not mention), and the
  // `expose` ports of a service it does mention become strings. The same configuration, written two ways.
  for (const service of Object.values(compose.services)) {
    if (Array.isArray(service.expose)) service.expose = service.expose.map(String);
    if (service.networks && !Array.isArray(service.networks)) {
      service.networks = Object.fromEntries(Object.entries(service.networks).map(([k, v]) => [k, v ?? {}]));
    }
  }
  return compose;
}

/**
 * A service's environment as its container sees it, with each /run/secrets/NAME path pointing at the file compose
 * would mount there (the stand-in's om-migrate-secrets/ holds sample admin URLs).
 */
function env(compose: Compose, s: Service): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    const secret = /^\/run\/secrets\/(.+)$/.exec(v)?.[1];
    out[k] = secret && s.secrets?.some((x) => x.source === secret) && compose.secrets?.[secret]?.file ? compose.secrets[secret].file : v;
  }
  return out;
}
const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {})).sort();
const tagOf = (image: string | undefined) => image?.split(':').pop();
const strip = <T extends object>(o: T | undefined, ...keys: string[]) =>
  o && Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const DB_FIELDS = ['engine', 'host', 'port', 'user', 'password', 'database'] as const;

const QUICKSTARTS = [
  { label: 'MySQL quickstart', base: 'test/fixtures/quickstart/docker-compose.yml', extra: [], db: 'mysql', engine: 'mysql', vars: { OM_VERSION: '1.11.13' } },
  { label: 'PostgreSQL quickstart', base: 'test/fixtures/quickstart/docker-compose-postgres.yml',
    extra: ['deploy/compose/om-migrate.postgres.yml'], db: 'postgresql', engine: 'postgres',
    vars: { OM_VERSION: '1.11.13', OM_MIGRATE_ADMIN_URL_SECRET_FILE: './om-migrate-secrets/admin-url-postgres',
      OM_MIGRATE_AIRFLOW_ADMIN_URL_SECRET_FILE: './om-migrate-secrets/admin-url-postgres' } },
] as const;

it('the override and the stand-ins exist', () => {
  for (const f of [OVERRIDE, 'deploy/compose/om-migrate.postgres.yml', ...QUICKSTARTS.map((q) => q.base)]) assert.ok(existsSync(`${ROOT}${f}`), f);
});

for (const q of QUICKSTARTS) {
  describe(`${q.label} + ${[OVERRIDE, ...q.extra].join(' + ')}`, { skip: SKIP }, () => {
    const base = SKIP ? undefined! : config([q.base], q.vars);
    const merged = SKIP ? undefined! : config([q.base, OVERRIDE, ...q.extra], q.vars);
    const s = (name: string) => {
      assert.ok(merged.services[name], `merged has service ${name}`);
      return merged.services[name];
    };

    it('the server still waits for the migration with service_completed_successfully, now om-migrate up', () => {
      assert.equal(s('openmetadata-server').depends_on?.['execute-migrate-all']?.condition, 'service_completed_successfully');
      const migrate = s('execute-migrate-all');
      assert.deepEqual(migrate.entrypoint, ['om-migrate']);
      assert.deepEqual(migrate.command, ['up']);
      assert.match(migrate.image ?? '', /^om-migrate\/server:/, 'the layered server image');
      assert.equal(tagOf(migrate.image), tagOf(base.services['openmetadata-server'].image), "the layered image is the server's version");
      assert.equal(migrate.container_name, base.services['execute-migrate-all'].container_name, 'container name kept');
    });

    it('om-migrate waits for the database and the search service to be healthy', () => {
      const deps = s('execute-migrate-all').depends_on ?? {};
      assert.equal(deps[q.db]?.condition, 'service_healthy', q.db);
      assert.equal(deps.elasticsearch?.condition, 'service_healthy', 'elasticsearch');
    });

    it("om-migrate has the server's whole environment and resolves the server's database", () => {
      const server = env(base, base.services['openmetadata-server']);
      const migrate = env(merged, s('execute-migrate-all'));
      for (const [k, v] of Object.entries(server)) assert.equal(migrate[k], v, `execute-migrate-all ${k}`);
      const resolved = resolveConfig({}, migrate);
      const om = resolved.openmetadata;
      const expected = resolveConfig({}, server).openmetadata;
      for (const f of DB_FIELDS) assert.equal(om?.[f], expected?.[f], `OpenMetadata database ${f}`);
      assert.equal(om?.engine, q.engine);
      assert.equal(om?.host, q.db);
      assert.equal(resolved.airflow, undefined, 'the server side does not touch the Airflow database');
      assert.equal(resolved.admin?.engine, q.engine, "the admin URL is for the database's server");
      assert.equal(resolved.admin?.host, q.db);
    });

    it("the Airflow one-shot runs on the layered ingestion image, after the server side, before ingestion, on the ingestion's network and database", () => {
      const airflow = s('execute-airflow-migrate');
      assert.deepEqual(airflow.entrypoint, ['om-migrate']);
      assert.deepEqual(airflow.command, ['up']);
      assert.match(airflow.image ?? '', /^om-migrate\/ingestion:/);
      assert.equal(tagOf(airflow.image), tagOf(base.services.ingestion.image), "the ingestion's version");
      assert.equal(airflow.depends_on?.['execute-migrate-all']?.condition, 'service_completed_successfully');
      assert.equal(s('ingestion').depends_on?.['execute-airflow-migrate']?.condition, 'service_completed_successfully');
      assert.deepEqual(networksOf(airflow), networksOf(base.services.ingestion), 'it reaches the database');
      const got = resolveConfig({}, env(merged, airflow));
      const ingestion = resolveConfig({}, env(base, base.services.ingestion)).airflow;
      assert.ok(ingestion, "the stand-in's ingestion environment names an Airflow database");
      for (const f of DB_FIELDS) assert.equal(got.airflow?.[f], ingestion[f], `Airflow database ${f}`);
      assert.equal(got.airflow?.engine, q.engine);
      assert.equal(got.openmetadata, undefined, "the ingestion's DB_* names are Airflow's");
      assert.equal(got.airflowAdmin?.engine, q.engine, "the Airflow admin URL is for the database's server");
      assert.equal(got.airflowAdmin?.host, q.db);
    });

    it('admin URLs come from compose secrets (files), never from an environment line', () => {
      for (const [name, service] of Object.entries(merged.services)) {
        for (const k of ['OM_MIGRATE_ADMIN_URL', 'OM_MIGRATE_AIRFLOW_ADMIN_URL']) assert.ok(!(k in (service.environment ?? {})), `${name} sets ${k}`);
      }
      for (const [name, variable] of [['execute-migrate-all', 'OM_MIGRATE_ADMIN_URL_FILE'], ['execute-airflow-migrate', 'OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE']]) {
        const service = s(name);
        const path = service.environment?.[variable] ?? '';
        const m = /^\/run\/secrets\/([A-Za-z0-9_.-]+)$/.exec(path);
        assert.ok(m, `${name}: ${variable}=${path} is a compose secret`);
        assert.ok(service.secrets?.some((x) => x.source === m[1]), `${name} mounts secret ${m[1]}`);
        assert.ok(merged.secrets?.[m[1]]?.file, `secret ${m[1]} is a file`);
      }
    });

    it('backups go to named volumes, one per image user, mounted on OM_MIGRATE_BACKUP_DIR', () => {
      const seen = new Set<string>();
      for (const name of ['execute-migrate-all', 'execute-airflow-migrate']) {
        const service = s(name);
        const dir = service.environment?.OM_MIGRATE_BACKUP_DIR;
        assert.ok(dir, `${name}: OM_MIGRATE_BACKUP_DIR`);
        const mount = (service.volumes ?? []).map((v) => v.split(':')).find((parts) => parts[1] === dir);
        assert.ok(mount, `${name}: a volume on ${dir}`);
        assert.ok(merged.volumes && mount[0] in merged.volumes, `${name}: ${mount[0]} is a declared named volume`);
        assert.ok(!(base.volumes && mount[0] in base.volumes), `${name}: ${mount[0]} is om-migrate's own`);
        seen.add(mount[0]);
        assert.ok(service.environment?.OM_MIGRATE_LOCK_TIMEOUT, `${name}: OM_MIGRATE_LOCK_TIMEOUT`);
        assert.equal(service.environment?.OM_MIGRATE_YES, '1', `${name}: never prompts`);
        assert.ok(!('OM_MIGRATE_BACKUP_KEEP' in (service.environment ?? {})), `${name}: nothing prunes backups unattended (a retry after a failure would remove the backup from before the upgrade)`);
      }
      assert.equal(seen.size, 2, 'the openmetadata and airflow users do not share one volume');
    });

    it("nothing else in the quickstart's services, volumes and network changed", () => {
      assert.deepEqual(Object.keys(merged.services).sort(), [...Object.keys(base.services), 'execute-airflow-migrate'].sort(),
        'one service added, none removed');
      assert.deepEqual(merged.networks, base.networks, 'networks');
      for (const [name, volume] of Object.entries(base.volumes ?? {})) assert.deepEqual(merged.volumes?.[name], volume, `volume ${name}`);
      assert.deepEqual(Object.keys(merged.volumes ?? {}).filter((v) => !(v in (base.volumes ?? {}))).sort(),
        ['om-migrate-airflow-backups', 'om-migrate-backups']);
      for (const [name, original] of Object.entries(base.services)) {
        const now = merged.services[name];
        if (name === 'execute-migrate-all') {
          const changed = ['image', 'entrypoint', 'command', 'secrets', 'volumes', 'environment'];
          assert.deepEqual(strip(now, ...changed), strip(original, ...changed), `${name}: only ${changed.join(', ')}`);
          assert.deepEqual(strip(now.environment, ...Object.keys(now.environment ?? {}).filter((k) => k.startsWith('OM_MIGRATE_'))),
            original.environment, `${name}: only OM_MIGRATE_* variables added`);
          assert.equal(original.volumes, undefined, `${name} had no volume to keep`);
        } else if (name === 'ingestion') {
          assert.deepEqual(strip(now, 'depends_on'), strip(original, 'depends_on'), name);
          assert.deepEqual(strip(now.depends_on, 'execute-airflow-migrate'), original.depends_on, `${name}: depends_on only gained execute-airflow-migrate`);
        } else {
          assert.deepEqual(now, original, name);
        }
      }
    });
  });
}

describe('the version is one required variable', { skip: SKIP }, () => {
  it('without OM_VERSION the merge fails and names it; with it, both om-migrate images carry that tag', () => {
    const result = spawnSync('docker-compose', ['-f', QUICKSTARTS[0].base, '-f', OVERRIDE, 'config'], {
      cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    assert.notEqual(result.status, 0, 'docker-compose config must refuse the files without OM_VERSION');
    assert.match(result.stderr, /OM_VERSION/);
    const merged = config([QUICKSTARTS[0].base, OVERRIDE], { OM_VERSION: '1.13.1' });
    assert.equal(merged.services['execute-migrate-all'].image, 'om-migrate/server:1.13.1');
    assert.equal(merged.services['execute-airflow-migrate'].image, 'om-migrate/ingestion:1.13.1');
    const prefixed = config([QUICKSTARTS[0].base, OVERRIDE], { OM_VERSION: '1.13.1', OM_MIGRATE_IMAGE_PREFIX: 'registry.example.com/om' });
    assert.equal(prefixed.services['execute-migrate-all'].image, 'registry.example.com/om/server:1.13.1');
  });
});

describe('the PostgreSQL quickstart needs om-migrate.postgres.yml', { skip: SKIP }, () => {
  it("without it the Airflow one-shot would look for the MySQL quickstart's database", () => {
    const merged = config(['test/fixtures/quickstart/docker-compose-postgres.yml', OVERRIDE], { OM_VERSION: '1.11.13' });
    const got = resolveConfig({}, env(merged, merged.services['execute-airflow-migrate'])).airflow;
    const ingestion = resolveConfig({}, env(merged, merged.services.ingestion)).airflow;
    assert.notEqual(got?.host, ingestion?.host);
    assert.equal(got?.engine, 'mysql');
  });
});
