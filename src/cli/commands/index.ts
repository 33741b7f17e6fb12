import type { CommandSpec } from './CommandSpec.js';

/**
 * Every command, in the order --help lists them. Only the invoked command's module is loaded (runCli), so that
 * `--help` and a command's start do not pay for the drivers and libraries of all the others.
 */
export interface CommandEntry {
  command: string;
  describe: string;
  load(): Promise<CommandSpec>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    command: 'preflight',
    describe: 'every gate\'s read-only check, one report; --dry-run also shows what up would change',
    load: async () => (await import('./preflight.js')).preflightCommand,
  },
  {
    command: 'up',
    describe: 'lock → gates → backup → parameter bumps → migrations → parameters put back → post-checks',
    load: async () => (await import('./up.js')).upCommand,
  },
  {
    command: 'rehearse',
    describe: 'run the plan of up on a scratch copy restored from a verified backup: each step\'s time, what changed, row counts; the copy is dropped',
    load: async () => (await import('./rehearse.js')).rehearseCommand,
  },
  {
    command: 'backup',
    describe: 'verified dump of each configured database (mariadb-dump/mysqldump, pg_dump -Fc) with a manifest beside it',
    load: async () => (await import('./backup.js')).backupCommand,
  },
  {
    command: 'restore',
    describe: 'restore a backup with the stock client, after checking its SHA-256 and refusing a newer or non-empty database',
    load: async () => (await import('./restore.js')).restoreCommand,
  },
  {
    command: 'repair-airflow',
    describe: 'bring a half-migrated Airflow task_instance (d59cbbef95eb) back to revision 05234396c6fc',
    load: async () => (await import('./repairAirflow.js')).repairAirflowCommand,
  },
  {
    command: 'status',
    describe: 'versions, the step ledger, unreverted parameter changes, and who holds the lock',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    command: 'revert-params',
    describe: 'put back every server parameter an interrupted run left changed',
    load: async () => (await import('./revertParams.js')).revertParamsCommand,
  },
  {
    command: 'resolve-restore',
    describe: 'settle a restore-on-failure that was cut off (SIGKILL): keep what was swapped in, drop the half-made copy, record the outcome',
    load: async () => (await import('./resolveRestore.js')).resolveRestoreCommand,
  },
  {
    command: 'entrypoint [command..]',
    describe: 'container entrypoint: up from the environment, then run the wrapped command (om-migrate entrypoint -- CMD…)',
    load: async () => (await import('./entrypoint.js')).entrypointCommand,
  },
];
