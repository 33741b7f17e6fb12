import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configError, usageError } from '../errors.js';
import { ConnectionSpec, DEFAULT_PORT, Engine } from './ConnectionSpec.js';
import { readOpenMetadataYaml } from './openmetadataYaml.js';
import { parseAdminUrl, parseJdbcUrl, parseParams, parsePort, parseSqlAlchemyUrl } from './parseUrls.js';
import { parseTargetVersion } from './versions.js';
import { parseDuration, parseSize } from './units.js';

/** How a MySQL dump is compressed on the fly; pg_dump's custom format compresses itself. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** What the CLI (or a test) passes in; every field optional, names as the flags. */
export interface ConfigInput {
  dbHost?: string;
  dbPort?: string | number;
  dbUser?: string;
  dbPasswordFile?: string;
  database?: string;
  dbScheme?: string;
  config?: string;
  airflowUrl?: string;
  adminUrl?: string;
  adminUrlFile?: string;
  airflowAdminUrl?: string;
  airflowAdminUrlFile?: string;
  to?: string;
  backupDir?: string;
  compress?: string;
  keep?: string | number;
  staleAfter?: string;
  lockTimeout?: string | number;
  sortBufferSize?: string;
  workMem?: string;
  workMemScope?: string;
  params?: string;
  json?: boolean;
  yes?: boolean;
  verbose?: boolean;
}

export type WorkMemScope = 'database' | 'role' | 'system';

export interface RunConfig {
  openmetadata: ConnectionSpec | undefined;
  airflow: ConnectionSpec | undefined;
  admin: ConnectionSpec | undefined;
  airflowAdmin: ConnectionSpec | undefined;
  targetVersion: string | undefined;
  backupDir: string;
  /** On-the-fly compression of MySQL dumps; pg_dump's custom format compresses itself. */
  backupCompress: Compression;
  /** Keep this many om-migrate backups per database, removing older ones; undefined keeps all. */
  backupKeep: number | undefined;
  staleAfterMs: number;
  lockTimeoutMs: number;
  sortBufferBytes: number;
  workMemBytes: number;
  workMemScope: WorkMemScope;
  /** 'skip': the operator set the parameters themselves; gates only verify them. */
  paramsMode: 'apply' | 'skip';
  json: boolean;
  yes: boolean;
  verbose: boolean;
}

/** 20 MB: the value OpenMetadata's documentation asks for. */
export const MIN_SORT_MEMORY_BYTES = 20 * 1024 * 1024;

const OM_DEFAULTS = { user: 'openmetadata_user', database: 'openmetadata_db' };

export function resolveConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env): RunConfig {
  const openmetadata = resolveOpenMetadata(input, env);
  const airflow = resolveAirflow(input, env);
  if (!openmetadata && !airflow) {
    throw configError(
      'no database configured',
      'Give the OpenMetadata database (--db-host/DB_HOST, or --config openmetadata.yaml) and/or the Airflow one (--airflow-url/AIRFLOW__DATABASE__SQL_ALCHEMY_CONN).',
    );
  }
  const adminUrl = urlOrFile(input.adminUrl ?? env.OM_MIGRATE_ADMIN_URL, input.adminUrlFile ?? env.OM_MIGRATE_ADMIN_URL_FILE,
    '--admin-url-file', 'OM_MIGRATE_ADMIN_URL');
  const airflowAdminUrl = urlOrFile(input.airflowAdminUrl ?? env.OM_MIGRATE_AIRFLOW_ADMIN_URL,
    input.airflowAdminUrlFile ?? env.OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE, '--airflow-admin-url-file', 'OM_MIGRATE_AIRFLOW_ADMIN_URL');
  const toText = input.to ?? env.OM_MIGRATE_TARGET_VERSION;
  const workMemScope = (input.workMemScope ?? env.OM_MIGRATE_WORK_MEM_SCOPE ?? 'database') as WorkMemScope;
  if (!['database', 'role', 'system'].includes(workMemScope)) {
    throw usageError(`--work-mem-scope "${workMemScope}" is not one of database, role, system`);
  }
  const paramsMode = input.params ?? env.OM_MIGRATE_PARAMS ?? 'apply';
  if (paramsMode !== 'apply' && paramsMode !== 'skip') throw usageError(`--params "${paramsMode}" is not one of apply, skip`);
  const backupCompress = (input.compress ?? env.OM_MIGRATE_BACKUP_COMPRESS ?? 'none') as Compression;
  if (!['gzip', 'zstd', 'none'].includes(backupCompress)) {
    throw usageError(`--compress "${backupCompress}" is not one of gzip, zstd, none`);
  }
  const keepText = input.keep ?? env.OM_MIGRATE_BACKUP_KEEP;
  const backupKeep = keepText === undefined || keepText === '' ? undefined : Number(keepText);
  if (backupKeep !== undefined && !(Number.isInteger(backupKeep) && backupKeep >= 1)) {
    throw usageError(`--keep "${keepText}" is not a whole number of at least 1`, 'The backup just made always counts as one.');
  }
  const lockTimeoutText = String(input.lockTimeout ?? env.OM_MIGRATE_LOCK_TIMEOUT ?? '0');
  return {
    openmetadata,
    airflow,
    admin: adminUrl ? parseAdminUrl(adminUrl, '--admin-url') : undefined,
    airflowAdmin: airflowAdminUrl ? parseAdminUrl(airflowAdminUrl, '--airflow-admin-url') : undefined,
    targetVersion: toText === undefined || toText === '' ? undefined : parseTargetVersion(toText),
    backupDir: resolve(input.backupDir ?? env.OM_MIGRATE_BACKUP_DIR ?? 'om-migrate-backups'),
    backupCompress,
    backupKeep,
    staleAfterMs: parseDuration(input.staleAfter ?? env.OM_MIGRATE_STALE_AFTER ?? '6h', '--stale-after'),
    lockTimeoutMs: parseDuration(/^\d+$/.test(lockTimeoutText) ? `${lockTimeoutText}s` : lockTimeoutText, '--lock-timeout'),
    sortBufferBytes: Math.max(MIN_SORT_MEMORY_BYTES,
      parseSize(input.sortBufferSize ?? env.OM_MIGRATE_SORT_BUFFER_SIZE ?? '20MB', '--sort-buffer-size')),
    workMemBytes: Math.max(MIN_SORT_MEMORY_BYTES, parseSize(input.workMem ?? env.OM_MIGRATE_WORK_MEM ?? '20MB', '--work-mem')),
    workMemScope,
    paramsMode,
    json: input.json ?? false,
    yes: input.yes ?? false,
    verbose: input.verbose ?? false,
  };
}

/** Flags, then OpenMetadata's own environment names, then openmetadata.yaml: field by field. */
function resolveOpenMetadata(input: ConfigInput, env: NodeJS.ProcessEnv): ConnectionSpec | undefined {
  const schemeFromEnv = env.DB_SCHEME && !env.DB_SCHEME.includes('+') ? env.DB_SCHEME : undefined;
  // The ingestion container sets DB_HOST/DB_USER for Airflow (with DB_SCHEME=mysql+mysqldb and AIRFLOW_DB): those are
  // not the OpenMetadata database.
  const envIsAirflows = (env.DB_SCHEME?.includes('+') ?? false) || (env.AIRFLOW_DB !== undefined && !env.OM_DATABASE);
  const omEnv = envIsAirflows ? {} : env;
  const flagsGiven = [input.dbHost, input.dbPort, input.dbUser, input.dbPasswordFile, input.database, input.dbScheme]
    .some((v) => v !== undefined);
  const envGiven = ['DB_HOST', 'OM_DATABASE', 'DB_USER_PASSWORD', 'DB_DRIVER_CLASS'].some((k) => omEnv[k] !== undefined);
  if (!flagsGiven && !envGiven && !input.config) return undefined;

  const yaml = input.config ? readOpenMetadataYaml(input.config, env) : undefined;
  const fromYaml = yaml?.url ? parseJdbcUrl(yaml.url, `${input.config} database.url`) : undefined;

  const engine =
    engineFromScheme(input.dbScheme, '--db-scheme') ??
    engineFromScheme(omEnv === env ? schemeFromEnv : undefined, 'DB_SCHEME') ??
    engineFromDriverClass(omEnv.DB_DRIVER_CLASS, 'DB_DRIVER_CLASS') ??
    fromYaml?.engine ??
    engineFromDriverClass(yaml?.driverClass, `${input.config} database.driverClass`) ??
    'mysql';
  const portText = input.dbPort !== undefined ? String(input.dbPort) : omEnv.DB_PORT;
  const password = input.dbPasswordFile
    ? readSecretFile(input.dbPasswordFile, '--db-password-file', 'DB_USER_PASSWORD')
    : omEnv.DB_USER_PASSWORD ?? yaml?.password;
  const source = flagsGiven ? 'flags' : envGiven ? 'environment' : String(input.config);
  return {
    engine,
    host: input.dbHost ?? omEnv.DB_HOST ?? fromYaml?.host ?? 'localhost',
    port: portText !== undefined ? parsePort(portText, input.dbPort !== undefined ? '--db-port' : 'DB_PORT')
      : fromYaml && fromYaml.engine === engine ? fromYaml.port : DEFAULT_PORT[engine],
    user: input.dbUser ?? omEnv.DB_USER ?? yaml?.user ?? OM_DEFAULTS.user,
    password,
    database: input.database ?? omEnv.OM_DATABASE ?? (fromYaml?.database || OM_DEFAULTS.database),
    params: omEnv.DB_PARAMS !== undefined ? parseParams(omEnv.DB_PARAMS) : fromYaml?.params ?? {},
    source,
  };
}

function resolveAirflow(input: ConfigInput, env: NodeJS.ProcessEnv): ConnectionSpec | undefined {
  if (input.airflowUrl) return parseSqlAlchemyUrl(input.airflowUrl, '--airflow-url');
  if (env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) {
    return parseSqlAlchemyUrl(env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
  }
  // OpenMetadata's ingestion image builds Airflow's URL from these names; accept them the same way.
  if (env.AIRFLOW_DB && env.DB_HOST && env.DB_SCHEME?.includes('+')) {
    const [dialect, driver] = env.DB_SCHEME.split('+');
    const engine = engineFromScheme(dialect, 'DB_SCHEME') as Engine;
    return {
      engine,
      host: env.DB_HOST,
      port: env.DB_PORT ? parsePort(env.DB_PORT, 'DB_PORT') : DEFAULT_PORT[engine],
      user: env.DB_USER ?? 'airflow_user',
      password: env.DB_PASSWORD,
      database: env.AIRFLOW_DB,
      params: parseParams(env.DB_PROPERTIES),
      source: 'ingestion environment (DB_SCHEME, DB_HOST, AIRFLOW_DB)',
      driver,
    };
  }
  return undefined;
}

function engineFromScheme(scheme: string | undefined, source: string): Engine | undefined {
  if (scheme === undefined) return undefined;
  const s = scheme.toLowerCase();
  if (s === 'mysql' || s === 'mariadb') return 'mysql';
  if (s === 'postgresql' || s === 'postgres') return 'postgres';
  throw configError(`${source} "${scheme}" is not a supported scheme`, 'Use mysql or postgresql, as OpenMetadata does.');
}

function engineFromDriverClass(driverClass: string | undefined, source: string): Engine | undefined {
  if (driverClass === undefined) return undefined;
  if (/mysql|mariadb/i.test(driverClass)) return 'mysql';
  if (/postgres/i.test(driverClass)) return 'postgres';
  throw configError(`${source} "${driverClass}" is not a MySQL or PostgreSQL JDBC driver`,
    'Use com.mysql.cj.jdbc.Driver or org.postgresql.Driver.');
}

/** A secret kept in a file (a Docker or Kubernetes secret); `flag` and `alternative` name it in the error. */
function readSecretFile(path: string, flag: string, alternative: string): string {
  try {
    // A trailing newline is almost always an editor's, not part of the secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw configError(`cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      `Make the file readable by this user, or use ${alternative}.`, error);
  }
}

/** A URL given directly (flag, then environment), or else read from a file (flag, then environment). */
function urlOrFile(direct: string | undefined, file: string | undefined, fileFlag: string, alternative: string): string | undefined {
  if (direct) return direct;
  return file ? readSecretFile(file, fileFlag, alternative) : undefined;
}
