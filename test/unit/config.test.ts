import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readOpenMetadataYaml, substituteEnv } from '../../src/config/openmetadataYaml.js';
import { parseAdminUrl, parseJdbcUrl, parseParams, parseSqlAlchemyUrl } from '../../src/config/parseUrls.js';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import { describeSpec, tlsRequested } from '../../src/config/ConnectionSpec.js';
import { OmMigrateError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'omm-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Asserts that `fn` throws an OmMigrateError with `code` and a message matching `message`. */
function throwsCode(fn: () => unknown, code: string, message?: RegExp): OmMigrateError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OmMigrateError, `expected an OmMigrateError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (message) assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'), 'error messages are one line');
  return caught;
}

/** The database block of OpenMetadata's own conf/openmetadata.yaml (1.6–1.11), verbatim apart from the comments. */
const STOCK_YAML = `server:
  rootPath: '/api/*'
  applicationConnectors:
    - type: http
      port: \${SERVER_PORT:-8585}
database:
  # the name of the JDBC driver, mysql in our case
  driverClass: \${DB_DRIVER_CLASS:-com.mysql.cj.jdbc.Driver}
  # the username and password
  user: \${DB_USER:-openmetadata_user}
  password: \${DB_USER_PASSWORD:-openmetadata_password}
  # the JDBC URL; the database is called openmetadata_db
  url: jdbc:\${DB_SCHEME:-mysql}://\${DB_HOST:-localhost}:\${DB_PORT:-3306}/\${OM_DATABASE:-openmetadata_db}?\${DB_PARAMS:-allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC}
  maxSize: \${DB_CONNECTION_POOL_MAX_SIZE:-50}
`;

describe('openmetadata.yaml', () => {
  it('substitutes ${NAME:-default} from the environment, the default when unset or empty', () => {
    assert.equal(substituteEnv('a ${X:-1} b ${Y:-two words} c ${Z}', { X: '9', Y: '', Z: 'z' }, 'f'), 'a 9 b two words c z');
    assert.equal(substituteEnv('${X:-}', {}, 'f'), '');
  });

  it('reads the stock database block with every default', () => {
    const db = readOpenMetadataYaml(file('stock.yaml', STOCK_YAML), {});
    assert.deepEqual(db, {
      driverClass: 'com.mysql.cj.jdbc.Driver',
      user: 'openmetadata_user',
      password: 'openmetadata_password',
      url: 'jdbc:mysql://localhost:3306/openmetadata_db?allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC',
    });
  });

  it('reads the stock database block with the environment filled in', () => {
    const db = readOpenMetadataYaml(file('stock-env.yaml', STOCK_YAML), {
      DB_DRIVER_CLASS: 'org.postgresql.Driver', DB_SCHEME: 'postgresql', DB_HOST: 'pg.internal', DB_PORT: '5433',
      OM_DATABASE: 'om', DB_PARAMS: 'sslmode=require', DB_USER: 'om_user', DB_USER_PASSWORD: 's3cret',
    });
    assert.equal(db.url, 'jdbc:postgresql://pg.internal:5433/om?sslmode=require');
    assert.equal(db.user, 'om_user');
    assert.equal(db.password, 's3cret');
  });

  it('refuses a variable that is unset and has no default, naming it', () => {
    const path = file('novar.yaml', 'database:\n  user: ${OM_TEST_NOT_SET_ANYWHERE}\n');
    const error = throwsCode(() => readOpenMetadataYaml(path, {}), 'CONFIG', /OM_TEST_NOT_SET_ANYWHERE is not set and has no default/);
    assert.match(error.hint ?? '', /\$\{OM_TEST_NOT_SET_ANYWHERE:-value\}/);
  });

  it('reports malformed YAML with its line', () => {
    const path = file('bad.yaml', 'server:\n  port: 8585\ndatabase:\n  url: "unterminated\n  user: x\n');
    const error = throwsCode(() => readOpenMetadataYaml(path, {}), 'CONFIG', /is not valid YAML at line \d+/);
    assert.doesNotMatch(error.message, /column \d+:$/);
  });

  it('refuses a file without a database block', () => {
    throwsCode(() => readOpenMetadataYaml(file('nodb.yaml', 'server:\n  port: 8585\n'), {}), 'CONFIG', /has no "database:" block/);
    throwsCode(() => readOpenMetadataYaml(file('scalar.yaml', 'database: openmetadata_db\n'), {}), 'CONFIG', /has no "database:" block/);
    throwsCode(() => readOpenMetadataYaml(file('empty.yaml', ''), {}), 'CONFIG', /has no "database:" block/);
  });

  it('refuses a file it cannot read, with the errno', () => {
    throwsCode(() => readOpenMetadataYaml(join(dir, 'missing.yaml'), {}), 'CONFIG', /cannot read --config .*ENOENT/);
  });
});

describe('JDBC URLs', () => {
  it('parses the stock MySQL URL with its parameters', () => {
    const spec = parseJdbcUrl('jdbc:mysql://mysql:3306/openmetadata_db?allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC', 's');
    assert.equal(spec.engine, 'mysql');
    assert.equal(spec.host, 'mysql');
    assert.equal(spec.port, 3306);
    assert.equal(spec.database, 'openmetadata_db');
    assert.deepEqual(spec.params, { allowPublicKeyRetrieval: 'true', useSSL: 'false', serverTimezone: 'UTC' });
    assert.equal(tlsRequested(spec), false);
  });

  it('parses PostgreSQL, default ports and TLS parameters', () => {
    const pg = parseJdbcUrl('jdbc:postgresql://pg.example.com/openmetadata_db?sslmode=require', 's');
    assert.equal(pg.engine, 'postgres');
    assert.equal(pg.port, 5432);
    assert.equal(tlsRequested(pg), true);
    assert.equal(parseJdbcUrl('jdbc:mysql://db/om', 's').port, 3306);
    assert.equal(tlsRequested(parseJdbcUrl('jdbc:mysql://db/om?useSSL=true', 's')), true);
    assert.equal(tlsRequested(parseJdbcUrl('jdbc:mysql://db/om?sslMode=PREFERRED', 's')), false);
  });

  it('parses IPv6 hosts and prints them back in brackets', () => {
    const spec = parseJdbcUrl('jdbc:mysql://[fe80::1]:3307/om?useSSL=false', 's');
    assert.equal(spec.host, 'fe80::1');
    assert.equal(spec.port, 3307);
    assert.equal(describeSpec({ ...spec, user: 'u' }), 'mysql://u@[fe80::1]:3307/om');
  });

  it('refuses other JDBC schemes and non-JDBC text', () => {
    throwsCode(() => parseJdbcUrl('jdbc:sqlserver://h:1433;databaseName=x', 's'), 'CONFIG', /unsupported JDBC scheme "sqlserver"/);
    throwsCode(() => parseJdbcUrl('mysql://h/om', 's'), 'CONFIG', /is not a JDBC URL/);
    throwsCode(() => parseJdbcUrl('jdbc:mysql://h:70000/om', 's'), 'CONFIG');
  });
});

describe('SQLAlchemy URLs', () => {
  it('parses mysql+mysqldb (the ingestion image since 1.6.4)', () => {
    const spec = parseSqlAlchemyUrl('mysql+mysqldb://airflow_user:airflow_pass@mysql:3306/airflow_db', 'x');
    assert.deepEqual({ ...spec }, {
      engine: 'mysql', host: 'mysql', port: 3306, user: 'airflow_user', password: 'airflow_pass', database: 'airflow_db',
      params: {}, source: 'x', driver: 'mysqldb',
    });
  });

  it('parses mysql+pymysql and keeps the driver', () => {
    const spec = parseSqlAlchemyUrl('mysql+pymysql://u:p@db/airflow_db?charset=utf8mb4', 'x');
    assert.equal(spec.driver, 'pymysql');
    assert.equal(spec.port, 3306);
    assert.deepEqual(spec.params, { charset: 'utf8mb4' });
  });

  it('parses postgresql+psycopg2 and plain postgresql://', () => {
    const a = parseSqlAlchemyUrl('postgresql+psycopg2://airflow_user:airflow_pass@postgresql:5432/airflow_db', 'x');
    assert.equal(a.engine, 'postgres');
    assert.equal(a.driver, 'psycopg2');
    const b = parseSqlAlchemyUrl('postgresql://airflow_user@pg/airflow_db', 'x');
    assert.equal(b.engine, 'postgres');
    assert.equal(b.port, 5432);
    assert.equal(b.driver, undefined);
    assert.equal(b.password, undefined);
  });

  it('decodes a percent-encoded password and user', () => {
    const spec = parseSqlAlchemyUrl('mysql+pymysql://air%40flow:p%40ss%3Aw%2Frd%25@h:3306/db', 'x');
    assert.equal(spec.user, 'air@flow');
    assert.equal(spec.password, 'p@ss:w/rd%');
  });

  it('accepts IPv6 hosts and a libpq socket directory in the query', () => {
    assert.equal(parseSqlAlchemyUrl('postgresql+psycopg2://u:p@[::1]:5433/airflow', 'x').host, '::1');
    const socket = parseSqlAlchemyUrl('postgresql://u@/airflow?host=/run/postgresql', 'x');
    assert.equal(socket.host, '/run/postgresql');
    assert.equal(socket.database, 'airflow');
  });

  it('refuses unsupported schemes, non-URLs, a stray % and bad ports as config errors', () => {
    throwsCode(() => parseSqlAlchemyUrl('sqlite:////tmp/airflow.db', '--airflow-url'), 'CONFIG', /unsupported database scheme "sqlite"/);
    throwsCode(() => parseSqlAlchemyUrl('mssql+pyodbc://u:p@h/db', '--airflow-url'), 'CONFIG', /unsupported database scheme "mssql"/);
    throwsCode(() => parseSqlAlchemyUrl('airflow_db', '--airflow-url'), 'CONFIG', /is not a database URL/);
    throwsCode(() => parseSqlAlchemyUrl('mysql://u:100%@h/db', '--airflow-url'), 'CONFIG', /%/);
    throwsCode(() => parseSqlAlchemyUrl('mysql://u:p@h:0/db', '--airflow-url'), 'CONFIG', /port "0"/);
    throwsCode(() => parseSqlAlchemyUrl('mysql://u:p#x@h/db', '--airflow-url'), 'CONFIG', /not a valid URL/);
  });

  it('admin URLs need no database', () => {
    const admin = parseAdminUrl('mysql://root:pw@127.0.0.1:3306', '--admin-url');
    assert.equal(admin.database, '');
    assert.equal(admin.user, 'root');
  });

  it('parses DB_PARAMS', () => {
    assert.deepEqual(parseParams('?a=1&b=two'), { a: '1', b: 'two' });
    assert.deepEqual(parseParams(undefined), {});
  });
});

describe('resolveConfig precedence: flags > OpenMetadata env names > openmetadata.yaml, field by field', () => {
  const yaml = () => file('precedence.yaml', `database:
  driverClass: com.mysql.cj.jdbc.Driver
  user: yaml_user
  password: yaml_password
  url: jdbc:mysql://yaml-host:3307/yaml_db?useSSL=true
`);

  it('takes everything from the YAML when nothing else is given', () => {
    const om = resolveConfig({ config: yaml() }, {}).openmetadata!;
    assert.deepEqual({ ...om, source: undefined }, {
      engine: 'mysql', host: 'yaml-host', port: 3307, user: 'yaml_user', password: 'yaml_password', database: 'yaml_db',
      params: { useSSL: 'true' }, source: undefined,
    });
  });

  it('lets each environment name override just its own field', () => {
    const om = resolveConfig({ config: yaml() }, { DB_HOST: 'env-host', DB_USER_PASSWORD: 'env_pw' }).openmetadata!;
    assert.equal(om.host, 'env-host');
    assert.equal(om.password, 'env_pw');
    assert.equal(om.port, 3307, 'port still from the YAML');
    assert.equal(om.user, 'yaml_user');
    assert.equal(om.database, 'yaml_db');
    assert.deepEqual(om.params, { useSSL: 'true' });
    const more = resolveConfig({ config: yaml() }, { DB_PORT: '3310', OM_DATABASE: 'env_db', DB_USER: 'env_user', DB_PARAMS: 'useSSL=false' })
      .openmetadata!;
    assert.deepEqual([more.host, more.port, more.database, more.user, more.params], ['yaml-host', 3310, 'env_db', 'env_user', { useSSL: 'false' }]);
  });

  it('lets each flag override the environment and the YAML', () => {
    const passwordFile = file('pw.txt', 'file_pw\n');
    const env = { DB_HOST: 'env-host', DB_PORT: '3310', DB_USER: 'env_user', DB_USER_PASSWORD: 'env_pw', OM_DATABASE: 'env_db' };
    const om = resolveConfig({ config: yaml(), dbHost: 'flag-host' }, env).openmetadata!;
    assert.deepEqual([om.host, om.port, om.user, om.password, om.database], ['flag-host', 3310, 'env_user', 'env_pw', 'env_db']);
    const all = resolveConfig({ config: yaml(), dbHost: 'flag-host', dbPort: '3311', dbUser: 'flag_user', dbPasswordFile: passwordFile,
      database: 'flag_db' }, env).openmetadata!;
    assert.deepEqual([all.host, all.port, all.user, all.password, all.database], ['flag-host', 3311, 'flag_user', 'file_pw', 'flag_db']);
    assert.equal(all.source, 'flags');
  });

  it('decides the engine: --db-scheme > DB_SCHEME > DB_DRIVER_CLASS > the YAML URL', () => {
    assert.equal(resolveConfig({ config: yaml() }, {}).openmetadata!.engine, 'mysql');
    assert.equal(resolveConfig({ config: yaml() }, { DB_DRIVER_CLASS: 'org.postgresql.Driver' }).openmetadata!.engine, 'postgres');
    assert.equal(resolveConfig({ config: yaml() }, { DB_SCHEME: 'postgresql', DB_DRIVER_CLASS: 'com.mysql.cj.jdbc.Driver' }).openmetadata!.engine,
      'postgres');
    assert.equal(resolveConfig({ config: yaml(), dbScheme: 'mysql' }, { DB_SCHEME: 'postgresql' }).openmetadata!.engine, 'mysql');
  });

  it('uses the engine\'s default port when the engine differs from the YAML URL\'s', () => {
    const om = resolveConfig({ config: yaml() }, { DB_SCHEME: 'postgresql' }).openmetadata!;
    assert.equal(om.port, 5432);
  });

  it('works from the environment alone, with OpenMetadata\'s defaults', () => {
    const om = resolveConfig({}, { DB_HOST: 'mysql' }).openmetadata!;
    assert.deepEqual([om.engine, om.host, om.port, om.user, om.database], ['mysql', 'mysql', 3306, 'openmetadata_user', 'openmetadata_db']);
    assert.equal(om.source, 'environment');
  });

  it('refuses unknown schemes and driver classes', () => {
    throwsCode(() => resolveConfig({}, { DB_HOST: 'h', DB_SCHEME: 'oracle' }), 'CONFIG', /DB_SCHEME "oracle"/);
    throwsCode(() => resolveConfig({ dbHost: 'h', dbScheme: 'sqlite' }, {}), 'CONFIG', /--db-scheme "sqlite"/);
    throwsCode(() => resolveConfig({}, { DB_HOST: 'h', DB_DRIVER_CLASS: 'oracle.jdbc.OracleDriver' }), 'CONFIG', /DB_DRIVER_CLASS/);
  });

  it('refuses an unreadable password file, bad ports and no database at all', () => {
    throwsCode(() => resolveConfig({ dbHost: 'h', dbPasswordFile: join(dir, 'nope') }, {}), 'CONFIG', /--db-password-file .*ENOENT/);
    throwsCode(() => resolveConfig({ dbHost: 'h', dbPort: 'abc' }, {}), 'CONFIG', /--db-port: port "abc"/);
    throwsCode(() => resolveConfig({}, { DB_HOST: 'h', DB_PORT: '70000' }), 'CONFIG', /DB_PORT: port "70000"/);
    throwsCode(() => resolveConfig({}, {}), 'CONFIG', /no database configured/);
  });

  it('refuses a password file it may not read', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, () => {
    const path = file('secret.txt', 'pw');
    chmodSync(path, 0o000);
    throwsCode(() => resolveConfig({ dbHost: 'h', dbPasswordFile: path }, {}), 'CONFIG', /EACCES/);
  });

  it('reads the other settings from flags or their environment names', () => {
    const c = resolveConfig({ dbHost: 'h', to: '1.11', staleAfter: '90m', workMem: '64MB', workMemScope: 'role' },
      { OM_MIGRATE_BACKUP_DIR: '/backups', OM_MIGRATE_SORT_BUFFER_SIZE: '8MB', OM_MIGRATE_TARGET_VERSION: '1.5.0' });
    assert.equal(c.targetVersion, '1.11.0');
    assert.equal(c.staleAfterMs, 90 * 60_000);
    assert.equal(c.workMemBytes, 64 * 1024 ** 2);
    assert.equal(c.sortBufferBytes, 20 * 1024 ** 2, 'never below the documented 20 MB');
    assert.equal(c.workMemScope, 'role');
    assert.equal(c.backupDir, '/backups');
    assert.equal(resolveConfig({ dbHost: 'h' }, {}).staleAfterMs, 6 * 3_600_000);
    assert.equal(resolveConfig({ dbHost: 'h' }, { OM_MIGRATE_TARGET_VERSION: '1.9.5' }).targetVersion, '1.9.5');
  });

  it('refuses bad run settings as usage errors', () => {
    throwsCode(() => resolveConfig({ dbHost: 'h', to: '1.x' }, {}), 'USAGE', /--to "1.x"/);
    throwsCode(() => resolveConfig({ dbHost: 'h', staleAfter: 'soon' }, {}), 'USAGE', /--stale-after "soon"/);
    throwsCode(() => resolveConfig({ dbHost: 'h', workMemScope: 'cluster' }, {}), 'USAGE', /--work-mem-scope "cluster"/);
    throwsCode(() => resolveConfig({ dbHost: 'h', params: 'maybe' }, {}), 'USAGE', /--params "maybe"/);
    throwsCode(() => resolveConfig({ dbHost: 'h', sortBufferSize: 'lots' }, {}), 'USAGE', /--sort-buffer-size "lots"/);
  });
});

describe('the ingestion container\'s environment is Airflow\'s, not OpenMetadata\'s', () => {
  const INGESTION_ENV = {
    DB_HOST: 'mysql', DB_PORT: '3306', DB_SCHEME: 'mysql+mysqldb', DB_USER: 'airflow_user', DB_PASSWORD: 'airflow_pass',
    // ingestion_dependency.sh appends DB_PROPERTIES to the URL as it is: the operator writes the '?'.
    AIRFLOW_DB: 'airflow_db', DB_PROPERTIES: '?charset=utf8mb4',
  };

  it('maps DB_SCHEME=mysql+mysqldb, DB_HOST, AIRFLOW_DB to the Airflow database only', () => {
    const c = resolveConfig({}, INGESTION_ENV);
    assert.equal(c.openmetadata, undefined);
    assert.deepEqual({ ...c.airflow, source: undefined }, {
      engine: 'mysql', host: 'mysql', port: 3306, user: 'airflow_user', password: 'airflow_pass', database: 'airflow_db',
      params: { charset: 'utf8mb4' }, source: undefined, driver: 'mysqldb',
      url: 'mysql+mysqldb://airflow_user:airflow_pass@mysql:3306/airflow_db?charset=utf8mb4',
    });
  });

  it('maps the PostgreSQL ingestion environment too', () => {
    const c = resolveConfig({}, { ...INGESTION_ENV, DB_SCHEME: 'postgresql+psycopg2', DB_PORT: '5432', DB_PROPERTIES: '' });
    assert.equal(c.openmetadata, undefined);
    assert.equal(c.airflow!.engine, 'postgres');
    assert.equal(c.airflow!.driver, 'psycopg2');
  });

  it('prefers AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, and --airflow-url over both', () => {
    const env = { ...INGESTION_ENV, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'mysql+pymysql://a:b@conn-host/conn_db' };
    assert.equal(resolveConfig({}, env).airflow!.host, 'conn-host');
    assert.equal(resolveConfig({ airflowUrl: 'postgresql://x@flag-host/flag_db' }, env).airflow!.host, 'flag-host');
  });

  it('does not take DB_USER / DB_HOST of the ingestion environment for an OpenMetadata database given by YAML', () => {
    const yaml = file('om-only.yaml', 'database:\n  user: om_user\n  password: om_pw\n  url: jdbc:mysql://om-host:3306/openmetadata_db\n');
    const c = resolveConfig({ config: yaml }, INGESTION_ENV);
    assert.equal(c.openmetadata!.host, 'om-host');
    assert.equal(c.openmetadata!.user, 'om_user');
    assert.equal(c.airflow!.database, 'airflow_db');
  });

  it('still treats DB_HOST as OpenMetadata\'s when DB_SCHEME is plain', () => {
    const c = resolveConfig({}, { DB_HOST: 'mysql', DB_SCHEME: 'mysql', DB_USER: 'openmetadata_user' });
    assert.equal(c.openmetadata!.host, 'mysql');
    assert.equal(c.airflow, undefined);
  });
});

describe('admin URLs from a secret file', () => {
  it('reads --admin-url-file / OM_MIGRATE_ADMIN_URL_FILE, dropping the editor\'s trailing newline', () => {
    const secret = file('admin-url', 'mysql://root:s%40cret@db:3306\n');
    const fromFlag = resolveConfig({ dbHost: 'db', adminUrlFile: secret }, {});
    assert.equal(fromFlag.admin?.password, 's@cret');
    assert.equal(fromFlag.admin?.host, 'db');
    const fromEnv = resolveConfig({ dbHost: 'db' }, { OM_MIGRATE_ADMIN_URL_FILE: secret, OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE: secret });
    assert.equal(fromEnv.admin?.user, 'root');
    assert.equal(fromEnv.airflowAdmin?.password, 's@cret');
  });

  it('a flag beats the environment, whether URL or file; within each, the URL beats the file', () => {
    const secret = file('admin-url-2', 'mysql://fromfile:pw@db:3306\n');
    const direct = 'mysql://direct:pw@db:3306';
    assert.equal(resolveConfig({ dbHost: 'db', adminUrlFile: secret }, { OM_MIGRATE_ADMIN_URL: direct }).admin?.user, 'fromfile');
    assert.equal(resolveConfig({ dbHost: 'db', adminUrl: direct, adminUrlFile: secret }, {}).admin?.user, 'direct');
    assert.equal(resolveConfig({ dbHost: 'db' }, { OM_MIGRATE_ADMIN_URL: direct, OM_MIGRATE_ADMIN_URL_FILE: secret }).admin?.user, 'direct');
    assert.equal(resolveConfig({ dbHost: 'db', adminUrlFile: secret }, {}).admin?.source, `--admin-url-file ${secret}`);
  });

  it('an unreadable file is a configuration error naming where it was given', () => {
    throwsCode(() => resolveConfig({ dbHost: 'db' }, { OM_MIGRATE_ADMIN_URL_FILE: join(dir, 'missing') }), 'CONFIG',
      /cannot read OM_MIGRATE_ADMIN_URL_FILE .*ENOENT/);
    throwsCode(() => resolveConfig({ dbHost: 'db', adminUrlFile: join(dir, 'missing') }, {}), 'CONFIG',
      /cannot read --admin-url-file .*ENOENT/);
  });
});
