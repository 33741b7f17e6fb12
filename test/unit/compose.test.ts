import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { resolveConfig } from '../../src/config/resolveConfig.js';

/** Static checks of docker-compose.yml: no Docker engine runs here, so the wiring is read, not started. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  restart?: string;
  profiles?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string; required?: boolean }>;
}
interface Compose { services: Record<string, Service>; volumes?: Record<string, unknown> }

const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as Compose;
const services = compose.services;

const OM_NAMES = ['DB_DRIVER_CLASS', 'DB_SCHEME', 'DB_HOST', 'DB_PORT', 'DB_USER', 'DB_USER_PASSWORD', 'OM_DATABASE', 'DB_PARAMS'];
const INGESTION_NAMES = ['DB_HOST', 'DB_PORT', 'AIRFLOW_DB', 'DB_SCHEME', 'DB_USER', 'DB_PASSWORD', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'];

/** Compose's interpolation, as far as this file uses it: ${NAME}, ${NAME:-default} (unset or empty), ${NAME-default}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_m, name: string, op: string | undefined, def = '') => {
    const v = vars[name];
    if (op === ':-') return v === undefined || v === '' ? def : v;
    if (op === '-') return v === undefined ? def : v;
    return v ?? '';
  });
}

/** A service's environment as its container would see it, with `vars` as the .env file. */
function containerEnv(service: Service, vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) {
    if (v === null) {
      if (vars[k] !== undefined) env[k] = vars[k];
    } else {
      env[k] = interpolate(String(v), vars);
    }
  }
  return env;
}

function envFile(path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(`${ROOT}${path}`, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

function asList(x: string | string[] | undefined): string[] {
  return x === undefined ? [] : Array.isArray(x) ? x : x.split(/\s+/);
}

describe('docker-compose.yml', () => {
  it('has the services, with the pinned images', () => {
    for (const name of ['mysql', 'postgresql', 'om-migrate', 'openmetadata-server', 'ingestion']) assert.ok(services[name], name);
    assert.equal(services.mysql.image, 'mysql:8.0');
    assert.equal(services.postgresql.image, 'postgres:15');
    assert.equal(services['openmetadata-server'].image, 'openmetadata/server:1.11.0');
    assert.equal(services.ingestion.image, 'openmetadata/ingestion:1.11.0');
    assert.equal(services['om-migrate'].build, '.', 'om-migrate is built from this repository');
  });

  it('MySQL 8 keeps binary logging on and starts with the quickstart sort buffer', () => {
    const args = asList(services.mysql.command);
    assert.ok(args.includes('--sort_buffer_size=10M'));
    const everything = JSON.stringify(services.mysql).toLowerCase().replace(/_/g, '-');
    for (const off of ['skip-log-bin', 'disable-log-bin', 'log-bin=off', 'log-bin=0', 'skip-log-bin']) {
      assert.ok(!everything.includes(off), `binary logging must not be disabled (${off})`);
    }
  });

  it('PostgreSQL is a profile; everything else starts by default', () => {
    assert.deepEqual(services.postgresql.profiles, ['postgres']);
    for (const name of ['mysql', 'om-migrate', 'openmetadata-server', 'ingestion']) assert.equal(services[name].profiles, undefined, name);
  });

  it('om-migrate is a one-shot `up` with an admin URL and backups on a volume', () => {
    const om = services['om-migrate'];
    assert.deepEqual(asList(om.command), ['up']);
    assert.equal(om.restart, 'no');
    for (const name of [...OM_NAMES, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'OM_MIGRATE_ADMIN_URL', 'OM_MIGRATE_TARGET_VERSION']) {
      assert.ok(om.environment && name in om.environment, `om-migrate gets ${name}`);
    }
    const backupDir = String(om.environment?.OM_MIGRATE_BACKUP_DIR);
    const mount = (om.volumes ?? []).find((v) => v.split(':')[1] === backupDir);
    assert.ok(mount, `a volume is mounted on ${backupDir}`);
    assert.ok(compose.volumes && mount.split(':')[0] in compose.volumes, 'a named volume, declared');
    assert.equal(containerEnv(om).OM_MIGRATE_TARGET_VERSION, '1.11.0');
    assert.equal(om.depends_on?.mysql.condition, 'service_healthy');
    assert.equal(om.depends_on?.postgresql.condition, 'service_healthy');
    assert.equal(om.depends_on?.postgresql.required, false, 'the postgres profile is optional');
  });

  it('the server and the ingestion wait for om-migrate to complete successfully', () => {
    for (const name of ['openmetadata-server', 'ingestion']) {
      assert.equal(services[name].depends_on?.['om-migrate']?.condition, 'service_completed_successfully', name);
    }
  });

  it("uses OpenMetadata's environment names: the server's and the ingestion's", () => {
    for (const name of OM_NAMES) assert.ok(name in (services['openmetadata-server'].environment ?? {}), `server ${name}`);
    for (const name of INGESTION_NAMES) assert.ok(name in (services.ingestion.environment ?? {}), `ingestion ${name}`);
    const ingestion = containerEnv(services.ingestion);
    assert.equal(ingestion.DB_SCHEME, 'mysql+mysqldb');
    assert.equal(ingestion.AIRFLOW_DB, 'airflow_db');
    assert.equal(containerEnv(services['openmetadata-server']).DB_DRIVER_CLASS, 'com.mysql.cj.jdbc.Driver');
  });

  for (const [label, vars] of [['MySQL (defaults)', {}], ['PostgreSQL (docker/postgres.env)', envFile('docker/postgres.env')]] as const) {
    it(`${label}: om-migrate resolves the same databases the server and the ingestion use`, () => {
      const om = resolveConfig({}, containerEnv(services['om-migrate'], vars));
      const server = resolveConfig({}, containerEnv(services['openmetadata-server'], vars));
      const ingestion = resolveConfig({}, containerEnv(services.ingestion, vars));
      const strip = (s: object | undefined) => s && { ...s, source: undefined };
      assert.deepEqual(strip(om.openmetadata), strip(server.openmetadata));
      assert.deepEqual(strip(om.airflow), strip(ingestion.airflow));
      assert.equal(ingestion.openmetadata, undefined, "the ingestion's DB_* names are Airflow's, not OpenMetadata's");
      // The ingestion image builds Airflow's URL from its DB_* names: they must name the same database as the URL.
      const { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: _url, ...byNames } = containerEnv(services.ingestion, vars);
      const fromNames = resolveConfig({}, byNames).airflow;
      for (const field of ['engine', 'host', 'port', 'user', 'password', 'database'] as const) {
        assert.equal(fromNames?.[field], om.airflow?.[field], `ingestion DB_* ${field}`);
      }
      const engine = Object.keys(vars).length === 0 ? 'mysql' : 'postgres';
      const host = engine === 'mysql' ? 'mysql' : 'postgresql';
      assert.equal(om.openmetadata?.engine, engine);
      assert.equal(om.openmetadata?.host, host);
      assert.equal(om.openmetadata?.database, 'openmetadata_db');
      assert.equal(om.airflow?.engine, engine);
      assert.equal(om.airflow?.host, host);
      assert.equal(om.airflow?.database, 'airflow_db');
      assert.equal(om.admin?.engine, engine);
      assert.equal(om.admin?.host, host);
      assert.equal(om.targetVersion, '1.11.0');
    });
  }

  it('every dependency, named volume and bind-mounted directory exists', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(services[dep], `${name} depends on ${dep}`);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('.')) assert.ok(existsSync(`${ROOT}${source}`), `${name} mounts ${source}`);
        else assert.ok(compose.volumes && source in compose.volumes, `${name} volume ${source} declared`);
      }
    }
  });

  it('names the wrapped form, om-migrate entrypoint -- <command…>', () => {
    assert.match(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), /om-migrate entrypoint -- /);
  });
});
