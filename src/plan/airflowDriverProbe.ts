import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { configRedactor } from '../config/secrets.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { splitCommandLine } from '../config/splitCommandLine.js';
import type { AirflowDriverProbe, AirflowDriverReport } from '../core/PlanInput.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { Environment } from '../process/childEnv.js';
import { findExecutable } from '../process/findExecutable.js';
import { spawnChild } from '../process/spawnChild.js';
import { migratorEnvironment } from '../steps/migratorEnvironment.js';

/**
 * Asks Airflow's MySQL driver, run by the migrator's own Python with the migrator's environment, how it connects
 * (the dialect's driverProbeScript: src/dialects/mysql/airflowDriverProbeScript.ts). The URL alone does not say it: Debian's mysqlclient 1.4.6 sends no
 * multi-statement flag with MariaDB Connector/C, and a URL's client_flag can add one to any driver (docs/facts/airflow.md).
 * The interpreter is the migrator command's own (`python3 …`, `env X=Y python3 …`) or the one its script's #! line names
 * (`airflow db migrate`); a command om-migrate cannot read that way is not asked, and says why.
 */
export async function probeAirflowDriver(config: RunConfig, target: ConnectedTarget): Promise<AirflowDriverProbe> {
  const script = target.dialect.airflow.driverProbeScript;
  if (!script) return { asked: false, why: 'nothing to ask of this engine\'s driver' };
  const command = config.migrators.airflowCommand;
  const found = interpreterOf(command, config.env);
  if ('why' in found) return { asked: false, why: found.why };
  const env = migratorEnvironment(target, config.env, found.env);
  let line: string | undefined;
  const result = await spawnChild({
    argv: [found.python, '-c', script], env, stdout: 'lines', stderr: 'lines', redactor: configRedactor(config),
    timeoutMs: 120_000, onLine: (l) => { if (l.startsWith('OM_MIGRATE_DRIVER_PROBE ')) line = l; },
  }).exit;
  if (!line) {
    const how = result.spawnError ?? (result.timedOut ? 'timed out' : `exit ${result.code}`);
    return { asked: false, why: `${found.python} could not connect as Airflow (${how}): ${lastLine(result.tail)}` };
  }
  return { asked: true, report: JSON.parse(line.slice('OM_MIGRATE_DRIVER_PROBE '.length)) as AirflowDriverReport };
}

/** The Python that runs `command`, and the variables an `env NAME=value …` prefix gives it. */
export function interpreterOf(command: string, env: Environment): { python: string; env: Record<string, string> } | { why: string } {
  if (/[|&;<>()$`*?[\]{}~]/.test(command)) return { why: `the migrator command is shell syntax (${command.slice(0, 80)})` };
  const argv = splitCommandLine(command);
  const extra: Record<string, string> = {};
  while (argv[0] !== undefined && basename(argv[0]) === 'env') {
    argv.shift();
    while (argv[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0])) {
      const [name, ...value] = argv.shift()!.split('=');
      extra[name] = value.join('=');
    }
  }
  const program = argv[0];
  if (!program) return { why: 'the migrator command is empty' };
  const path = program.includes('/') ? program : findExecutable(program, { PATH: extra.PATH ?? env.PATH });
  if (!path) return { why: `${program} is not on the migrator's PATH` };
  if (/^python[0-9.]*$/.test(basename(path))) return { python: path, env: extra };
  let first = '';
  try {
    first = readFileSync(path, 'latin1').slice(0, 256).split('\n')[0];
  } catch (error) {
    return { why: `${path} cannot be read (${(error as Error).message})` };
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!shebang) return { why: `${path} is not a Python script (no #! line)` };
  const named = basename(shebang[1]) === 'env' && shebang[2] ? shebang[2] : shebang[1];
  if (!/^python[0-9.]*$/.test(basename(named))) return { why: `${path} runs ${named}, not Python` };
  const python = named.includes('/') ? named : findExecutable(named, { PATH: extra.PATH ?? env.PATH });
  return python ? { python, env: extra } : { why: `${named} (from ${path}'s #! line) is not on the migrator's PATH` };
}

function lastLine(tail: string): string {
  return tail.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '';
}
