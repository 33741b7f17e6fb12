/**
 * Every option of every command, in one table: its flag, its environment name, its type, and the commands that take
 * it. The CLI builds its yargs options from this table and hands the parsed values to resolveConfig unchanged; the
 * environment is read by resolveConfig only, with one rule for booleans. Flags always beat the environment.
 */
export type CommandName = 'preflight' | 'up' | 'backup' | 'restore' | 'repair-airflow' | 'status' | 'revert-params' | 'entrypoint' | 'rehearse' | 'resolve-restore';

type Kind = 'string' | 'boolean' | 'number';

export interface OptionSpec {
  /** The flag, as typed: --db-host. Its camel-cased form is the key of the value (yargs' convention). */
  flag: string;
  kind: Kind;
  /** The environment name read when the flag is absent. */
  env?: string;
  /** Shown in --help where there is no single environment name of our own (OpenMetadata's names, say). */
  envNote?: string;
  group: 'Connection and run:' | 'Backup:' | 'Migrators:' | 'Output:' | 'Command:';
  describe: string;
  commands: readonly CommandName[] | 'all';
  choices?: readonly string[];
  /**
   * A choice that decides what one invocation does (--dry-run, --force, --truncate-task-instance): no environment name
   * on purpose, so that a destructive choice cannot linger in a container's configuration and fire on its next start.
   */
  cliOnly?: true;
  default?: boolean;
}

const DATABASE_COMMANDS: readonly CommandName[] = ['preflight', 'up', 'backup', 'restore', 'repair-airflow', 'status', 'revert-params', 'entrypoint', 'rehearse', 'resolve-restore'];
const RUN_COMMANDS: readonly CommandName[] = ['preflight', 'up', 'entrypoint', 'rehearse'];
const BACKUP_COMMANDS: readonly CommandName[] = ['up', 'backup', 'entrypoint', 'rehearse', 'repair-airflow'];

export const OPTIONS = {
  dbHost: { flag: 'db-host', kind: 'string', envNote: 'DB_HOST', group: 'Connection and run:', describe: 'OpenMetadata database host', commands: DATABASE_COMMANDS },
  dbPort: { flag: 'db-port', kind: 'string', envNote: 'DB_PORT', group: 'Connection and run:', describe: 'OpenMetadata database port (3306 | 5432)', commands: DATABASE_COMMANDS },
  dbUser: { flag: 'db-user', kind: 'string', envNote: 'DB_USER', group: 'Connection and run:', describe: 'OpenMetadata database user', commands: DATABASE_COMMANDS },
  dbPasswordFile: { flag: 'db-password-file', kind: 'string', envNote: 'DB_USER_PASSWORD holds the password itself', group: 'Connection and run:', describe: 'file holding the OpenMetadata database password', commands: DATABASE_COMMANDS },
  database: { flag: 'database', kind: 'string', envNote: 'OM_DATABASE', group: 'Connection and run:', describe: 'OpenMetadata database name', commands: DATABASE_COMMANDS },
  dbScheme: { flag: 'db-scheme', kind: 'string', envNote: 'DB_SCHEME, or DB_DRIVER_CLASS', group: 'Connection and run:', describe: 'mysql | postgresql', commands: DATABASE_COMMANDS },
  config: { flag: 'config', kind: 'string', envNote: 'none; DB_PARAMS feeds the URL', group: 'Connection and run:', describe: 'conf/openmetadata.yaml: its database: block is the last fallback', commands: DATABASE_COMMANDS },
  airflowUrl: { flag: 'airflow-url', kind: 'string', envNote: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (or _CMD), or the ingestion image\'s DB_SCHEME/DB_HOST/AIRFLOW_DB', group: 'Connection and run:', describe: 'Airflow metadata database, SQLAlchemy URL', commands: DATABASE_COMMANDS },
  adminUrl: { flag: 'admin-url', kind: 'string', env: 'OM_MIGRATE_ADMIN_URL', group: 'Connection and run:', describe: 'privileged connection used only to change server parameters', commands: DATABASE_COMMANDS },
  adminUrlFile: { flag: 'admin-url-file', kind: 'string', env: 'OM_MIGRATE_ADMIN_URL_FILE', group: 'Connection and run:', describe: 'file holding the admin URL (a Docker or Kubernetes secret)', commands: DATABASE_COMMANDS },
  airflowAdminUrl: { flag: 'airflow-admin-url', kind: 'string', env: 'OM_MIGRATE_AIRFLOW_ADMIN_URL', group: 'Connection and run:', describe: 'privileged connection for the Airflow server, when it is another server', commands: DATABASE_COMMANDS },
  airflowAdminUrlFile: { flag: 'airflow-admin-url-file', kind: 'string', env: 'OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE', group: 'Connection and run:', describe: 'file holding the Airflow admin URL', commands: DATABASE_COMMANDS },
  allowAdminUrlEnv: { flag: 'allow-admin-url-env', kind: 'boolean', env: 'OM_MIGRATE_ALLOW_ADMIN_URL_ENV', group: 'Connection and run:', describe: 'let entrypoint take an admin URL with a password from the environment, where the server it starts can read it (/proc/<pid>/environ); use the *_FILE form instead', commands: ['entrypoint'] },
  to: { flag: 'to', kind: 'string', env: 'OM_MIGRATE_TARGET_VERSION', group: 'Connection and run:', describe: 'OpenMetadata version to upgrade to (default: the highest the installed distribution carries)', commands: DATABASE_COMMANDS },
  backupDir: { flag: 'backup-dir', kind: 'string', env: 'OM_MIGRATE_BACKUP_DIR', group: 'Connection and run:', describe: 'where backups are written (default ./om-migrate-backups)', commands: DATABASE_COMMANDS },
  journalDir: { flag: 'journal-dir', kind: 'string', env: 'OM_MIGRATE_JOURNAL_DIR', group: 'Connection and run:', describe: 'where the fallback parameter journal files live (default ~/.om-migrate)', commands: DATABASE_COMMANDS },
  staleAfter: { flag: 'stale-after', kind: 'string', env: 'OM_MIGRATE_STALE_AFTER', group: 'Connection and run:', describe: 'a pipeline run "running" for longer is stale (default 6h)', commands: DATABASE_COMMANDS },
  lockTimeout: { flag: 'lock-timeout', kind: 'string', env: 'OM_MIGRATE_LOCK_TIMEOUT', group: 'Connection and run:', describe: 'wait this long for another run\'s lock (default 0: fail at once; entrypoint: 10m)', commands: DATABASE_COMMANDS },
  connectTimeout: { flag: 'connect-timeout', kind: 'string', env: 'OM_MIGRATE_CONNECT_TIMEOUT', group: 'Connection and run:', describe: 'give up on an unreachable server after this long (default 10s)', commands: DATABASE_COMMANDS },
  sortBufferSize: { flag: 'sort-buffer-size', kind: 'string', env: 'OM_MIGRATE_SORT_BUFFER_SIZE', group: 'Connection and run:', describe: 'raise MySQL sort_buffer_size to at least this (min 20MB, max 4GB)', commands: DATABASE_COMMANDS },
  workMem: { flag: 'work-mem', kind: 'string', env: 'OM_MIGRATE_WORK_MEM', group: 'Connection and run:', describe: 'raise PostgreSQL work_mem to at least this (min 20MB, max 4GB)', commands: DATABASE_COMMANDS },
  workMemScope: { flag: 'work-mem-scope', kind: 'string', env: 'OM_MIGRATE_WORK_MEM_SCOPE', group: 'Connection and run:', describe: 'database | role | system (default database)', commands: DATABASE_COMMANDS, choices: ['database', 'role', 'system'] },
  params: { flag: 'params', kind: 'string', env: 'OM_MIGRATE_PARAMS', group: 'Connection and run:', describe: 'apply | skip: skip when you set the parameters yourself', commands: DATABASE_COMMANDS, choices: ['apply', 'skip'] },
  pgBinDir: { flag: 'pg-bin-dir', kind: 'string', env: 'OM_MIGRATE_PG_BIN_DIR', group: 'Connection and run:', describe: 'a directory holding pg_dump/pg_restore to prefer when they suit the server', commands: DATABASE_COMMANDS },

  compress: { flag: 'compress', kind: 'string', env: 'OM_MIGRATE_BACKUP_COMPRESS', group: 'Backup:', describe: 'compress MySQL dumps on the fly (pg_dump -Fc compresses itself)', commands: BACKUP_COMMANDS, choices: ['gzip', 'zstd', 'none'] },
  keep: { flag: 'keep', kind: 'string', env: 'OM_MIGRATE_BACKUP_KEEP', group: 'Backup:', describe: 'keep this many om-migrate backups per database, removing older ones (by manifest)', commands: BACKUP_COMMANDS },
  backupReuseMaxAge: { flag: 'backup-reuse-max-age', kind: 'string', env: 'OM_MIGRATE_BACKUP_REUSE_MAX_AGE', group: 'Backup:', describe: 'a resumed up reuses an earlier run\'s backup only if younger than this and its row counts still match (default 60m; 0: never)', commands: ['up', 'entrypoint'] },

  omHome: { flag: 'om-home', kind: 'string', env: 'OM_MIGRATE_OM_HOME', group: 'Migrators:', describe: 'OpenMetadata\'s home: bootstrap/openmetadata-ops.sh and its migration folders (default /opt/openmetadata)', commands: DATABASE_COMMANDS },
  omMigrator: { flag: 'om-migrator', kind: 'string', env: 'OM_MIGRATE_OM_COMMAND', group: 'Migrators:', describe: 'a command of your own that migrates the OpenMetadata database (run by /bin/sh in --om-home)', commands: RUN_COMMANDS },
  omMigratorArgs: { flag: 'om-migrator-args', kind: 'string', group: 'Migrators:', describe: 'arguments passed to openmetadata-ops.sh migrate, e.g. --force', commands: RUN_COMMANDS, cliOnly: true },
  airflowMigrator: { flag: 'airflow-migrator', kind: 'string', env: 'OM_MIGRATE_AIRFLOW_COMMAND', group: 'Migrators:', describe: 'command that migrates the Airflow database (default "airflow db migrate")', commands: RUN_COMMANDS },
  airflowCheck: { flag: 'airflow-check', kind: 'string', env: 'OM_MIGRATE_AIRFLOW_CHECK_COMMAND', group: 'Migrators:', describe: 'command that exits 0 when Airflow has nothing to migrate (default "airflow db check-migrations -t 0" with the default migrator)', commands: RUN_COMMANDS },
  stepTimeout: { flag: 'step-timeout', kind: 'string', env: 'OM_MIGRATE_STEP_TIMEOUT', group: 'Migrators:', describe: 'stop a step (SIGTERM, then SIGKILL; a SQL step: its statement cancelled) that runs longer (default per step: migrators 6h, repair 2h)', commands: [...RUN_COMMANDS, 'repair-airflow'] },
  stopGrace: { flag: 'stop-grace', kind: 'string', env: 'OM_MIGRATE_STOP_GRACE', group: 'Migrators:', describe: 'how long a stopped migrator (and all it started) gets between SIGTERM and SIGKILL (default 10s)', commands: RUN_COMMANDS },
  fixStaleRuns: { flag: 'fix-stale-runs', kind: 'boolean', env: 'OM_MIGRATE_FIX_STALE_RUNS', group: 'Migrators:', describe: 'mark pipeline runs stuck in "running" as failed', commands: RUN_COMMANDS },
  restoreOnFailure: { flag: 'restore-on-failure', kind: 'boolean', env: 'OM_MIGRATE_RESTORE_ON_FAILURE', group: 'Migrators:', describe: 'when a step fails after it may have changed a database, restore each changed database from this run\'s backup (through a verified scratch copy, swapped in) before exiting 16; the failed state is kept beside it', commands: ['preflight', 'up', 'entrypoint'] },
  requireRehearsal: { flag: 'require-rehearsal', kind: 'boolean', env: 'OM_MIGRATE_REQUIRE_REHEARSAL', group: 'Migrators:', describe: 'block unless a rehearsal of the same starting state and target passed', commands: RUN_COMMANDS },

  json: { flag: 'json', kind: 'boolean', env: 'OM_MIGRATE_JSON', group: 'Output:', describe: 'print one JSON document on stdout', commands: 'all' },
  yes: { flag: 'yes', kind: 'boolean', env: 'OM_MIGRATE_YES', group: 'Output:', describe: 'never prompt', commands: 'all' },
  verbose: { flag: 'verbose', kind: 'boolean', env: 'OM_MIGRATE_VERBOSE', group: 'Output:', describe: 'show stack traces and driver messages', commands: 'all' },

  dryRun: { flag: 'dry-run', kind: 'boolean', group: 'Command:', describe: 'show what would be done and change nothing', commands: ['preflight', 'repair-airflow'], cliOnly: true },
  out: { flag: 'out', kind: 'string', group: 'Command:', describe: 'with --dry-run: write the plan to this file (JSON, mode 0600) for up --plan', commands: ['preflight'], cliOnly: true },
  plan: { flag: 'plan', kind: 'string', group: 'Command:', describe: 'execute exactly the plan preflight --dry-run --out wrote; refused (exit 4) once the databases no longer match it', commands: ['up'], cliOnly: true },
  manifest: { flag: 'manifest', kind: 'string', group: 'Command:', describe: 'the backup\'s .manifest.json', commands: ['restore', 'rehearse'], cliOnly: true },
  into: { flag: 'into', kind: 'string', group: 'Command:', describe: 'database to restore into (must exist; default: the backed-up one)', commands: ['restore'], cliOnly: true },
  force: { flag: 'force', kind: 'boolean', group: 'Command:', describe: 'restore over a non-empty database or a newer OpenMetadata version', commands: ['restore'], cliOnly: true },
  jobs: { flag: 'jobs', kind: 'string', group: 'Command:', describe: 'dump and restore in N sessions at once (default 1; preflight checks what that needs). Backups become a directory of files, every file hashed in the manifest: PostgreSQL pg_dump --format=directory --jobs N; MySQL/MariaDB one dump tool per share of the tables, all started while every table is locked against writes for a moment (needs LOCK TABLES). Restore: pg_restore --jobs N or N clients at once, which gives up the single transaction: a failed restore leaves the database partly restored (restore again with --force)', commands: [...BACKUP_COMMANDS, 'restore', 'preflight'], cliOnly: true },
  backup: { flag: 'backup', kind: 'boolean', default: true, group: 'Command:', describe: 'take a verified backup first (--no-backup to skip)', commands: ['repair-airflow'], cliOnly: true },
  truncateTaskInstance: { flag: 'truncate-task-instance', kind: 'boolean', group: 'Command:', describe: 'empty task_instance and its dependants (destructive; needs --yes and a backup)', commands: ['repair-airflow'], cliOnly: true },
  fixMalformedIds: { flag: 'fix-malformed-ids', kind: 'boolean', group: 'Command:', describe: 'rewrite task_instance ids malformed by Airflow 3.0.0-3.0.5 on MySQL (apache/airflow#54554)', commands: ['repair-airflow'], cliOnly: true },
  deleteOrphans: { flag: 'delete-orphans', kind: 'boolean', group: 'Command:', describe: 'delete the rows of task_instance\'s dependent tables that point at no task instance (needs --yes and a backup)', commands: ['repair-airflow'], cliOnly: true },
  keepCopy: { flag: 'keep-copy', kind: 'boolean', group: 'Command:', describe: 'keep the rehearsal\'s scratch database instead of dropping it', commands: ['rehearse'], cliOnly: true },
  rehearseAdminUrl: { flag: 'rehearse-admin-url', kind: 'string', env: 'OM_MIGRATE_REHEARSE_ADMIN_URL', group: 'Command:', describe: 'a server (and account) to restore the rehearsal copy on, instead of the database\'s own server', commands: ['rehearse'] },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

type ValueOf<K extends Kind> = K extends 'boolean' ? boolean : K extends 'number' ? number : string;

/** What the CLI (or a test, or a library caller) passes in: every field optional, named as the flags. */
export type ConfigInput = { [K in OptionKey]?: ValueOf<(typeof OPTIONS)[K]['kind']> };

export function optionsOf(command: CommandName): Array<[OptionKey, OptionSpec]> {
  return (Object.entries(OPTIONS) as Array<[OptionKey, OptionSpec]>)
    .filter(([, spec]) => spec.commands === 'all' || spec.commands.includes(command));
}

/** The one truthiness rule for every boolean in the environment. */
export function parseBoolean(text: string, name: string): boolean | 'invalid' {
  const value = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false;
  void name;
  return 'invalid';
}
