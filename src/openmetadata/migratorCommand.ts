import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { MigratorOptions } from '../config/migrators.js';
import type { Environment } from '../process/childEnv.js';
import { OPS_SCRIPT } from './distribution.js';

export const MAIN_CLASS = 'org.openmetadata.service.util.OpenMetadataOperations';

/** How OpenMetadata's migrator is run, for the step and for the plan's description. */
export interface MigratorCommand {
  form: 'ops-script' | 'main-class' | 'custom';
  argv: string[];
  cwd: string;
  /** One line for the plan: the command as an operator would type it (no secret is ever part of it). */
  display: string;
}

/**
 * The migrator as OpenMetadata ships it (docs/facts/openmetadata.md, "The command lines om-migrate must use"):
 * `cd <home> && ./bootstrap/openmetadata-ops.sh migrate` — the script adds its own -c <home>/conf/openmetadata.yaml,
 * and a second -c makes picocli exit 2. A config file other than that one is given to the main class directly, with
 * the distribution's classpath and one -c. The working directory is the home: the config's migration paths are
 * relative to it. An operator's own command runs under /bin/sh in the home.
 */
export function migratorCommand(options: MigratorOptions, env: Environment, subcommand: 'migrate' | 'recover' = 'migrate'): MigratorCommand {
  const home = options.omHome;
  const args = subcommand === 'migrate' ? options.omArgs : [];
  if (options.omCommand) {
    return { form: 'custom', argv: ['/bin/sh', '-c', options.omCommand], cwd: home, display: options.omCommand };
  }
  if (options.omConfig && !sameFile(options.omConfig, join(home, 'conf/openmetadata.yaml'))) {
    const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin/java') : 'java';
    // The JVM expands a classpath entry ending in /* itself: one argument, no shell.
    const argv = [java, `-Dbootstrap.dir=${join(home, 'bootstrap')}`, '-cp', join(home, 'libs/*'), MAIN_CLASS, '-c', options.omConfig, subcommand, ...args];
    return { form: 'main-class', argv, cwd: home, display: `cd ${home} && ${argv.join(' ')}` };
  }
  const argv = [`./${OPS_SCRIPT}`, subcommand, ...args];
  return { form: 'ops-script', argv, cwd: home, display: `cd ${home} && ${argv.join(' ')}` };
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}
