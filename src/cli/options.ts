import type { Argv, Options } from 'yargs';
import type { ConfigInput } from '../config/resolveConfig.js';

/**
 * Flags that choose what one invocation does (--dry-run, --force, --truncate-task-instance, --manifest) are marked
 * "[command line only]" in --help and have no environment name on purpose: a destructive choice must not linger in a
 * container's configuration and fire on its next start.
 *
 * The options every database command shares. Each names the environment variable it falls back to in --help; the
 * fallback itself is done by resolveConfig, because flags → OpenMetadata's env names → openmetadata.yaml is a
 * per-field precedence yargs cannot express.
 */
const CONNECTION_OPTIONS: Record<string, Options & { env: string }> = {
  'db-host': { type: 'string', env: 'DB_HOST', describe: 'OpenMetadata database host' },
  'db-port': { type: 'string', env: 'DB_PORT', describe: 'OpenMetadata database port (3306 | 5432)' },
  'db-user': { type: 'string', env: 'DB_USER', describe: 'OpenMetadata database user' },
  'db-password-file': { type: 'string', env: 'DB_USER_PASSWORD holds the password itself', describe: 'file holding the OpenMetadata database password' },
  database: { type: 'string', env: 'OM_DATABASE', describe: 'OpenMetadata database name' },
  'db-scheme': { type: 'string', env: 'DB_SCHEME, or DB_DRIVER_CLASS', describe: 'mysql | postgresql' },
  config: { type: 'string', env: 'no env; DB_PARAMS feeds the URL', describe: 'conf/openmetadata.yaml: its database: block is the last fallback' },
  'airflow-url': { type: 'string', env: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', describe: 'Airflow metadata database, SQLAlchemy URL' },
  'admin-url': { type: 'string', env: 'OM_MIGRATE_ADMIN_URL', describe: 'privileged connection used only to change server parameters' },
  'admin-url-file': { type: 'string', env: 'OM_MIGRATE_ADMIN_URL_FILE', describe: 'file holding the admin URL (a Docker or Kubernetes secret)' },
  'airflow-admin-url': { type: 'string', env: 'OM_MIGRATE_AIRFLOW_ADMIN_URL', describe: 'privileged connection for the Airflow server, when it is another server' },
  'airflow-admin-url-file': { type: 'string', env: 'OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE', describe: 'file holding the Airflow admin URL' },
  to: { type: 'string', env: 'OM_MIGRATE_TARGET_VERSION', describe: 'OpenMetadata version to upgrade to, e.g. 1.11.0' },
  'backup-dir': { type: 'string', env: 'OM_MIGRATE_BACKUP_DIR', describe: 'where backups are written (default ./om-migrate-backups)' },
  'stale-after': { type: 'string', env: 'OM_MIGRATE_STALE_AFTER', describe: 'a pipeline run "running" for longer is stale (default 6h)' },
  'lock-timeout': { type: 'string', env: 'OM_MIGRATE_LOCK_TIMEOUT', describe: 'wait this long for another run\'s lock (default 0: fail at once)' },
  'sort-buffer-size': { type: 'string', env: 'OM_MIGRATE_SORT_BUFFER_SIZE', describe: 'raise MySQL sort_buffer_size to at least this (min 20MB)' },
  'work-mem': { type: 'string', env: 'OM_MIGRATE_WORK_MEM', describe: 'raise PostgreSQL work_mem to at least this (min 20MB)' },
  'work-mem-scope': { type: 'string', env: 'OM_MIGRATE_WORK_MEM_SCOPE', describe: 'database | role | system (default database)' },
  params: { type: 'string', env: 'OM_MIGRATE_PARAMS', describe: 'apply | skip: skip when you set the parameters yourself' },
};

const OUTPUT_OPTIONS: Record<string, Options & { env: string }> = {
  json: { type: 'boolean', env: 'OM_MIGRATE_JSON=1', describe: 'print one JSON document on stdout' },
  yes: { type: 'boolean', env: 'OM_MIGRATE_YES=1', describe: 'never prompt' },
  verbose: { type: 'boolean', env: 'OM_MIGRATE_VERBOSE=1', describe: 'show stack traces and driver messages' },
};

export function withConnectionOptions<T>(y: Argv<T>): Argv<T> {
  let result = y;
  for (const [name, { env, ...option }] of Object.entries(CONNECTION_OPTIONS)) {
    result = result.option(name, { ...option, describe: `${option.describe} [env: ${env}]`, group: 'Connection and run:' });
  }
  return result;
}

/** How backups are written: shared by `backup` and `up`, whose first gate is the same backup. */
export function withBackupOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('compress', { type: 'string', choices: ['gzip', 'zstd', 'none'], group: 'Backup:',
      describe: 'compress MySQL dumps on the fly (pg_dump -Fc compresses itself) [env: OM_MIGRATE_BACKUP_COMPRESS]' })
    .option('keep', { type: 'number', group: 'Backup:',
      describe: 'keep this many om-migrate backups per database, removing older ones (by manifest) [env: OM_MIGRATE_BACKUP_KEEP]' });
}

export function withOutputOptions<T>(y: Argv<T>): Argv<T> {
  let result = y;
  for (const [name, { env, ...option }] of Object.entries(OUTPUT_OPTIONS)) {
    result = result.option(name, { ...option, describe: `${option.describe} [env: ${env}]`, group: 'Output:' });
  }
  return result;
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes'].includes(v.toLowerCase());

/** yargs' camel-cased arguments → the library's ConfigInput. */
export function toConfigInput(argv: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const s = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  return {
    dbHost: s('dbHost'),
    dbPort: s('dbPort'),
    dbUser: s('dbUser'),
    dbPasswordFile: s('dbPasswordFile'),
    database: s('database'),
    dbScheme: s('dbScheme'),
    config: s('config'),
    airflowUrl: s('airflowUrl'),
    adminUrl: s('adminUrl'),
    adminUrlFile: s('adminUrlFile'),
    airflowAdminUrl: s('airflowAdminUrl'),
    airflowAdminUrlFile: s('airflowAdminUrlFile'),
    to: s('to'),
    backupDir: s('backupDir'),
    compress: s('compress'),
    keep: s('keep'),
    staleAfter: s('staleAfter'),
    lockTimeout: s('lockTimeout'),
    sortBufferSize: s('sortBufferSize'),
    workMem: s('workMem'),
    workMemScope: s('workMemScope'),
    params: s('params'),
    json: argv.json === undefined ? truthy(env.OM_MIGRATE_JSON) : Boolean(argv.json),
    yes: argv.yes === undefined ? truthy(env.OM_MIGRATE_YES) : Boolean(argv.yes),
    verbose: argv.verbose === undefined ? truthy(env.OM_MIGRATE_VERBOSE) : Boolean(argv.verbose),
  };
}
