import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { configError, usageError } from '../errors.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';
import { ConnectionSpec, DEFAULT_PORT, Engine } from './ConnectionSpec.js';
import { DEFAULT_AIRFLOW_CHECK, DEFAULT_AIRFLOW_COMMAND, DEFAULT_OM_HOME, type MigratorOptions } from './migrators.js';
import { readOpenMetadataYaml } from './openmetadataYaml.js';
import { OPTIONS, parseBoolean, type CommandName, type ConfigInput, type OptionKey } from './options.js';
import { parseAdminUrl, parseJdbcUrl, parseParams, parsePort, parseSqlAlchemyUrl } from './parseUrls.js';
import { splitCommandLine } from './splitCommandLine.js';
import { parseDuration, parseSize } from './units.js';
import { parseTargetVersion } from './targetVersion.js';

export type { ConfigInput } from './options.js';
export type { MigratorOptions } from './migrators.js';

/** How a MySQL dump is compressed on the fly; pg_dump's custom format compresses itself. */
export type Compression = 'gzip' | 'zstd' | 'none';

export type WorkMemScope = 'database' | 'role' | 'system';

export interface RunConfig {
  /** The command this configuration is for; some defaults depend on it (the entrypoint waits for the lock). */
  command: CommandName | undefined;
  openmetadata: ConnectionSpec | undefined;
  airflow: ConnectionSpec | undefined;
  admin: ConnectionSpec | undefined;
  airflowAdmin: ConnectionSpec | undefined;
  /** --to as given; undefined means the highest version the installed distribution carries. */
  targetVersion: string | undefined;
  /** Where the target came from ("--to", "OM_MIGRATE_TARGET_VERSION"), for messages. */
  targetSource?: string;
  backupDir: string;
  journalDir: string;
  /** On-the-fly compression of MySQL dumps; pg_dump's custom format compresses itself. */
  backupCompress: Compression;
  /** Keep this many om-migrate backups per database, removing older ones; undefined keeps all. */
  backupKeep: number | undefined;
  /**
   * A resumed `up` takes over an earlier run's backup only when it was taken less than this long ago (and the database's
   * row counts still match it); 0: always a new backup.
   */
  backupReuseMaxAgeMs: number;
  /** --jobs: dump (and restore) in this many sessions at once; 1 is the single-file backup. */
  backupJobs: number;
  staleAfterMs: number;
  lockTimeoutMs: number;
  connectTimeoutMs: number;
  sortBufferBytes: number;
  workMemBytes: number;
  workMemScope: WorkMemScope;
  /** 'skip': the operator set the parameters themselves; gates only verify them. */
  paramsMode: 'apply' | 'skip';
  /** A directory of PostgreSQL client tools to prefer (--pg-bin-dir). */
  pgBinDir: string | undefined;
  migrators: MigratorOptions;
  /** --step-timeout for every step; undefined: each step's own default. */
  stepTimeoutMs: number | undefined;
  /** --stop-grace: how long a stopped step's migrator has between SIGTERM and SIGKILL. */
  stopGraceMs: number;
  fixStaleRuns: boolean;
  requireRehearsal: boolean;
  /** --restore-on-failure: a failed up brings each database it changed back to its backup (src/engine/restoreOnFailure.ts). */
  restoreOnFailure: boolean;
  /** --rehearse-admin-url: the server and account the rehearsal's copy is made on (default: the database's own). */
  rehearseAdmin: ConnectionSpec | undefined;
  json: boolean;
  yes: boolean;
  verbose: boolean;
  /**
   * The environment this configuration was resolved from (frozen): everything below the CLI looks programs up on its
   * PATH and builds its children's environments from it (src/process/childEnv.ts), never from process.env.
   */
  env: Environment;
}

/** 20 MB: the value OpenMetadata's documentation asks for. */
export const MIN_SORT_MEMORY_BYTES = 20 * 1024 * 1024;
/** Given to every sort of every session: more than this is a typo, not a setting. */
export const MAX_SORT_MEMORY_BYTES = 4 * 1024 ** 3;

/** --jobs: each job is a database session (and a dump or restore process); more than this is a typo. */
export const MAX_JOBS = 64;

const HOUR = 3_600_000;
const LIMITS = {
  lockTimeout: 24 * HOUR,
  staleAfter: 365 * 24 * HOUR,
  stepTimeout: 7 * 24 * HOUR,
  backupReuseMaxAge: 7 * 24 * HOUR,
  connectTimeout: 10 * 60_000,
  stopGrace: 10 * 60_000,
};

const OM_DEFAULTS = { user: 'openmetadata_user', database: 'openmetadata_db' };

/**
 * The one place configuration is read: flags (input, as the CLI parsed them) beat the environment, field by field; an
 * empty environment value counts as unset; every boolean in the environment follows one rule (parseBoolean). `env` is
 * the process environment as the caller chooses to give it (the CLI: process.env); a copy of it travels in the result.
 */
export function resolveConfig(input: ConfigInput, env: Environment, options: { command?: CommandName } = {}): RunConfig {
  const read = reader(input, env);
  const openmetadata = resolveOpenMetadata(input, env);
  const airflow = resolveAirflow(input, env);
  if (!openmetadata && !airflow) {
    throw configError(
      'no database configured',
      'Give the OpenMetadata database (--db-host/DB_HOST, or --config openmetadata.yaml) and/or the Airflow one (--airflow-url/AIRFLOW__DATABASE__SQL_ALCHEMY_CONN).',
    );
  }
  const admin = adminUrl(read, 'adminUrl', 'adminUrlFile');
  const airflowAdmin = adminUrl(read, 'airflowAdminUrl', 'airflowAdminUrlFile');
  if (options.command === 'entrypoint' && !read.boolean('allowAdminUrlEnv')) refuseAdminPasswordInEnvironment([admin, airflowAdmin]);
  const to = read.string('to');
  const backupKeep = read.string('keep');
  const keep = backupKeep === undefined ? undefined : Number(backupKeep.value);
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1 && keep <= 1000)) {
    throw usageError(`${backupKeep!.source} "${backupKeep!.value}" is not a whole number from 1 to 1000`, 'The backup just made always counts as one.');
  }
  const jobsGiven = read.string('jobs');
  const jobs = jobsGiven === undefined ? 1 : Number(jobsGiven.value);
  if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= MAX_JOBS)) {
    throw usageError(`${jobsGiven!.source} "${jobsGiven!.value}" is not a whole number from 1 to ${MAX_JOBS}`,
      'Give the number of dump or restore sessions to run at once, e.g. --jobs 4 (about the cores the database server can spare).');
  }
  const airflowCommand = read.string('airflowMigrator')?.value ?? DEFAULT_AIRFLOW_COMMAND;
  const stepTimeout = read.string('stepTimeout');
  const rehearseAdmin = read.string('rehearseAdminUrl');
  const omArgs = splitCommandLine(read.string('omMigratorArgs')?.value ?? '');
  return {
    command: options.command,
    openmetadata,
    airflow,
    admin,
    airflowAdmin,
    targetVersion: to === undefined ? undefined : parseTargetVersion(to.value, to.source),
    targetSource: to?.source,
    backupDir: resolve(read.string('backupDir')?.value ?? 'om-migrate-backups'),
    journalDir: resolve(read.string('journalDir')?.value ?? join(homedir(), '.om-migrate')),
    backupCompress: read.choice('compress', ['gzip', 'zstd', 'none'], 'none'),
    backupKeep: keep,
    backupReuseMaxAgeMs: duration(read, 'backupReuseMaxAge', '60m', LIMITS.backupReuseMaxAge),
    backupJobs: jobs,
    staleAfterMs: duration(read, 'staleAfter', '6h', LIMITS.staleAfter),
    lockTimeoutMs: duration(read, 'lockTimeout', options.command === 'entrypoint' ? '10m' : '0', LIMITS.lockTimeout),
    connectTimeoutMs: Math.max(1000, duration(read, 'connectTimeout', '10s', LIMITS.connectTimeout)),
    sortBufferBytes: sortMemory(read, 'sortBufferSize'),
    workMemBytes: sortMemory(read, 'workMem'),
    workMemScope: read.choice('workMemScope', ['database', 'role', 'system'], 'database'),
    paramsMode: read.choice('params', ['apply', 'skip'], 'apply'),
    pgBinDir: read.string('pgBinDir')?.value,
    migrators: {
      omHome: resolve(read.string('omHome')?.value ?? DEFAULT_OM_HOME),
      omCommand: read.string('omMigrator')?.value,
      omConfig: input.config,
      omArgs,
      airflowCommand,
      airflowCheck: read.string('airflowCheck')?.value ?? (airflowCommand === DEFAULT_AIRFLOW_COMMAND ? DEFAULT_AIRFLOW_CHECK : undefined),
    },
    stepTimeoutMs: stepTimeout === undefined ? undefined : checkedDuration(stepTimeout, LIMITS.stepTimeout, 60_000),
    stopGraceMs: checkedDuration(read.string('stopGrace') ?? { value: '10s', source: '--stop-grace' }, LIMITS.stopGrace, 1000),
    fixStaleRuns: read.boolean('fixStaleRuns'),
    requireRehearsal: read.boolean('requireRehearsal'),
    restoreOnFailure: read.boolean('restoreOnFailure'),
    rehearseAdmin: rehearseAdmin === undefined ? undefined : parseAdminUrl(rehearseAdmin.value, rehearseAdmin.source),
    json: read.boolean('json'),
    yes: read.boolean('yes'),
    verbose: read.boolean('verbose'),
    env: Object.freeze({ ...env }),
  };
}

interface Found<T> {
  value: T;
  /** Where it came from, for messages: "--lock-timeout" or "OM_MIGRATE_LOCK_TIMEOUT". */
  source: string;
}

/** Reads one option: the flag when given, else its environment name (empty = unset). */
function reader(input: ConfigInput, env: Environment) {
  const spec = (key: OptionKey) => OPTIONS[key] as { flag: string; env?: string };
  const fromEnv = (key: OptionKey): Found<string> | undefined => {
    const name = spec(key).env;
    const value = name === undefined ? undefined : env[name];
    return name !== undefined && value !== undefined && value !== '' ? { value, source: name } : undefined;
  };
  return {
    string(key: OptionKey): Found<string> | undefined {
      const given = input[key];
      if (given !== undefined) {
        const text = String(given);
        if (text.trim() === '') {
          throw usageError(`--${spec(key).flag} is empty`, `Give a value, or leave --${spec(key).flag} out for its default.`);
        }
        return { value: text, source: `--${spec(key).flag}` };
      }
      return fromEnv(key);
    },
    boolean(key: OptionKey): boolean {
      const given = input[key];
      if (given !== undefined) return Boolean(given);
      const found = fromEnv(key);
      if (!found) return false;
      const value = parseBoolean(found.value, found.source);
      if (value === 'invalid') throw usageError(`${found.source}="${found.value}" is not a yes/no value`, 'Use 1, true, yes, on or 0, false, no, off.');
      return value;
    },
    choice<T extends string>(key: OptionKey, choices: readonly T[], fallback: T): T {
      const found = this.string(key);
      if (!found) return fallback;
      if (!choices.includes(found.value as T)) throw usageError(`${found.source} "${found.value}" is not one of ${choices.join(', ')}`);
      return found.value as T;
    },
  };
}

type Reader = ReturnType<typeof reader>;

function duration(read: Reader, key: OptionKey, fallback: string, max: number): number {
  const found = read.string(key) ?? { value: fallback, source: `--${OPTIONS[key].flag}` };
  return checkedDuration(found, max, 0);
}

function checkedDuration(found: Found<string>, max: number, min: number): number {
  const text = /^\s*\d+\s*$/.test(found.value) ? `${found.value.trim()}s` : found.value;
  const ms = parseDuration(text, found.source);
  if (!Number.isSafeInteger(ms) || ms > max || ms < min) {
    throw usageError(`${found.source} "${found.value}" is out of range (${formatDuration(min)} to ${formatDuration(max)})`,
      'Write it like 30s, 10m or 2h.');
  }
  return ms;
}

function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % (24 * HOUR) === 0) return `${ms / (24 * HOUR)}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  return `${Math.round(ms / 1000)}s`;
}

function sortMemory(read: Reader, key: 'sortBufferSize' | 'workMem'): number {
  const found = read.string(key);
  if (!found) return MIN_SORT_MEMORY_BYTES;
  const bytes = parseSize(found.value, found.source);
  if (!Number.isSafeInteger(bytes) || bytes > MAX_SORT_MEMORY_BYTES) {
    throw usageError(`${found.source} "${found.value}" is more than 4GB`, 'Every sort of every session may take this much memory: 20MB to 256MB is the usual range.');
  }
  return Math.max(MIN_SORT_MEMORY_BYTES, bytes);
}

/** The URL given on the command line (directly or as a file) wins; then the environment (directly, then as a file). */
function adminUrl(read: Reader, direct: 'adminUrl' | 'airflowAdminUrl', file: 'adminUrlFile' | 'airflowAdminUrlFile'): ConnectionSpec | undefined {
  const url = read.string(direct);
  const path = read.string(file);
  const fromFlag = (found: Found<string> | undefined) => found?.source.startsWith('--');
  const pick = fromFlag(url) ? 'url' : fromFlag(path) ? 'file' : url ? 'url' : path ? 'file' : undefined;
  if (pick === 'url') return parseAdminUrl(url!.value, url!.source);
  if (pick === 'file') {
    const text = readSecretFile(path!.value, path!.source, OPTIONS[direct].env);
    return parseAdminUrl(text, `${path!.source} ${path!.value}`);
  }
  return undefined;
}

/**
 * `entrypoint` stays the parent of the server it starts (Node cannot exec), for the server's whole life, and the server
 * runs as the same user: it can read om-migrate's /proc/<pid>/environ, which keeps the environment om-migrate started
 * with whatever om-migrate does with it. A flag is scrubbed from /proc/<pid>/cmdline (runCli), a file is read and
 * gone; a password in the environment stays readable, so it is refused unless the operator opts in.
 */
function refuseAdminPasswordInEnvironment(specs: Array<ConnectionSpec | undefined>): void {
  for (const spec of specs) {
    const name = spec?.password ? [OPTIONS.adminUrl.env, OPTIONS.airflowAdminUrl.env].find((env) => env === spec.source) : undefined;
    if (!name) continue;
    throw usageError(`${name} holds a password, and entrypoint stays the parent of the server, which can read it in /proc/<pid>/environ`,
      `Put the URL in a file and give ${name}_FILE (a Docker or Kubernetes secret), or run om-migrate up before the server; ${OPTIONS.allowAdminUrlEnv.env}=1 accepts it anyway.`);
  }
}

/** Flags, then OpenMetadata's own environment names, then openmetadata.yaml: field by field. */
function resolveOpenMetadata(input: ConfigInput, env: Environment): ConnectionSpec | undefined {
  const schemeFromEnv = env.DB_SCHEME && !env.DB_SCHEME.includes('+') ? env.DB_SCHEME : undefined;
  // The ingestion container sets DB_HOST/DB_USER for Airflow (with DB_SCHEME=mysql+mysqldb and AIRFLOW_DB): those are
  // not the OpenMetadata database.
  const omEnv = ingestionEnvironment(env) ? {} : env;
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

/**
 * The ingestion container's own names (OpenMetadata's ingestion_dependency.sh builds Airflow's URL from them): AIRFLOW_DB
 * with DB_SCHEME absent or a SQLAlchemy scheme (mysql+mysqldb), and no OpenMetadata database named in OM_DATABASE.
 */
function ingestionEnvironment(env: Environment): boolean {
  if (env.DB_SCHEME?.includes('+')) return true;
  return Boolean(env.AIRFLOW_DB) && !env.DB_SCHEME && !env.OM_DATABASE;
}

/**
 * Airflow's database as Airflow reads it: --airflow-url; AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (environment variables in
 * it expanded); its _CMD form (the command's output); its _SECRET form (asked of the installed Airflow, which knows its
 * secrets backend); else the ingestion image's names with that script's defaults.
 */
function resolveAirflow(input: ConfigInput, env: Environment): ConnectionSpec | undefined {
  if (input.airflowUrl !== undefined) return sqlAlchemySpec(input.airflowUrl, '--airflow-url', env);
  if (env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) {
    return sqlAlchemySpec(expandEnvironment(env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, env), 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', env);
  }
  if (env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD) {
    const argv = splitCommandLine(env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD);
    return sqlAlchemySpec(commandOutput(argv, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD', env), 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD', env);
  }
  if (env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET) {
    const url = commandOutput(['airflow', 'config', 'get-value', 'database', 'sql_alchemy_conn'],
      'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET (through airflow config get-value)', env);
    return sqlAlchemySpec(url, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET', env);
  }
  if (env.AIRFLOW_DB && ingestionEnvironment(env)) {
    const scheme = env.DB_SCHEME || 'mysql+mysqldb';
    const [dialect] = scheme.split('+');
    const engine = engineFromScheme(dialect, 'DB_SCHEME') as Engine;
    const user = encodeURIComponent(env.DB_USER || 'airflow_user');
    const password = encodeURIComponent(env.DB_PASSWORD ?? 'airflow_pass');
    const url = `${scheme}://${user}:${password}@${env.DB_HOST || 'mysql'}:${env.DB_PORT || DEFAULT_PORT[engine]}/${env.AIRFLOW_DB}${env.DB_PROPERTIES ?? ''}`;
    return { ...sqlAlchemySpec(url, 'ingestion environment (DB_SCHEME, DB_HOST, AIRFLOW_DB, DB_USER, DB_PASSWORD)', env), url };
  }
  return undefined;
}

/** Resolved as the URL's driver resolves it, in the environment the migrator gets (MYSQL_UNIX_PORT: src/config/parseUrls.ts). */
function sqlAlchemySpec(url: string, source: string, env: Environment): ConnectionSpec {
  return { ...parseSqlAlchemyUrl(url, source, env), url: url.trim() };
}

/** Airflow expands $NAME and ${NAME} in the URL (os.path.expandvars: unknown names stay as written). */
function expandEnvironment(text: string, env: Environment): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (all, braced?: string, bare?: string) =>
    env[braced ?? bare ?? ''] ?? all);
}

/** Runs a command without a shell, as Airflow's _CMD does, and returns its output (a trailing newline dropped). */
function commandOutput(argv: string[], source: string, env: Environment): string {
  if (argv.length === 0) throw configError(`${source} is empty`);
  // The operator's command needs their environment, not om-migrate's own settings (the admin URLs with root's password).
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: childEnvironment(env, 'all-but-own'), timeout: 30_000 });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : `exit status ${result.status}`;
    throw configError(`${source} failed: ${why}`, 'Run the command by hand; it must print the SQLAlchemy URL.');
  }
  return result.stdout.replace(/\r?\n$/, '');
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

/** A secret kept in a file (a Docker or Kubernetes secret); `source` and `alternative` name it in the error. */
function readSecretFile(path: string, source: string, alternative: string | undefined): string {
  try {
    // A trailing newline is almost always an editor's, not part of the secret.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw configError(`cannot read ${source} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      `Make the file readable by this user${alternative ? `, or use ${alternative}` : ''}.`, error);
  }
}
