import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { finding, type Environment, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'migrator-start';

/**
 * Whether each migrator the plan runs can start at all, checked before anything changes — otherwise the backup is
 * taken and the parameters raised for a child that then fails with "spawn /bin/sh ENOENT". What is checked is what the
 * start needs (docs/facts/openmetadata.md, "bootstrap/openmetadata-ops.sh"): the working directory (--om-home), the ops
 * script and its execute bit, the Java the script runs ($JAVA_HOME/bin/java, else java on PATH), the main class form's
 * java, /bin/sh for a command of the operator's own, and the first word of Airflow's command on PATH. A missing
 * distribution is the versions gate's finding. `up` (and entrypoint, rehearse) blocks on each; a plain preflight, often run
 * from elsewhere than the server image, warns.
 */
export const migratorStartGate: Gate = {
  id: GATE,
  title: 'Migrators can start',
  async check(ctx: GateContext): Promise<Finding[]> {
    const problems: Finding[] = [];
    const severity = ctx.command === 'up' ? 'block' : 'warn';
    const om = ctx.input.openmetadata;
    const env = ctx.config.env;
    if (om && ctx.targets.some((t) => t.role === 'openmetadata')) {
      const home = ctx.config.migrators.omHome;
      const problem = openMetadataProblem(om.migrator.form, om.migrator.argv, home, om.distribution !== undefined, env, ctx.tools);
      if (problem) problems.push(finding(GATE, 'openmetadata', severity, problem.summary, problem.fix, { migrator: om.migrator.display }));
    }
    if (ctx.targets.some((t) => t.role === 'airflow')) {
      const command = ctx.config.migrators.airflowCommand;
      const problem = commandProblem(ctx.tools.commandArgv(command), undefined, env, ctx.tools);
      if (problem) {
        problems.push(finding(GATE, 'airflow', severity, `the Airflow migrator cannot start: ${problem}`,
          'Run om-migrate where Airflow is installed (the ingestion image), or give --airflow-migrator (OM_MIGRATE_AIRFLOW_COMMAND) with a command that exists here.',
          { migrator: command }));
      }
    }
    return problems;
  },
};

function openMetadataProblem(form: 'ops-script' | 'main-class' | 'custom', argv: string[], home: string, distribution: boolean,
  env: Environment, tools: GateContext['tools']): { summary: string; fix: string } | undefined {
  if (!isDirectory(home)) {
    // Without a distribution the versions gate speaks for the ops-script form; a command of one's own runs in --om-home.
    if (form !== 'custom') return undefined;
    return { summary: `OpenMetadata's migrator cannot start: --om-home ${home} does not exist, and the command runs there`,
      fix: 'Give --om-home (OM_MIGRATE_OM_HOME) the directory your --om-migrator command expects to run in.' };
  }
  if (form === 'custom') {
    const problem = commandProblem(['/bin/sh'], home, env, tools);
    return problem ? { summary: `OpenMetadata's migrator cannot start: ${problem}`, fix: 'Run om-migrate where /bin/sh exists (any POSIX system or image).' } : undefined;
  }
  if (!distribution) return undefined;
  if (form === 'ops-script') {
    const script = join(home, tools.openmetadata.OPS_SCRIPT);
    if (isFile(script) && !executable(script)) {
      return { summary: `OpenMetadata's migrator cannot start: ${script} is not executable`,
        fix: `Give it its execute bit (chmod +x ${script}), as OpenMetadata's distribution ships it.` };
    }
  }
  // The script runs $JAVA_HOME/bin/java when JAVA_HOME is set, else java from PATH; the main-class form runs argv[0].
  const java = form === 'ops-script' ? (env.JAVA_HOME ? join(env.JAVA_HOME, 'bin/java') : 'java') : argv[0];
  const problem = commandProblem([java], home, env, tools);
  return problem ? { summary: `OpenMetadata's migrator cannot start: no Java (${problem})`,
    fix: 'Install Java 21 (OpenMetadata\'s server image has it) or set JAVA_HOME to a JDK, for the environment om-migrate runs in.' } : undefined;
}

/** Why argv[0] cannot be run from `cwd`, or undefined when it can. */
function commandProblem(argv: string[], cwd: string | undefined, env: Environment, tools: GateContext['tools']): string | undefined {
  const program = argv[0];
  if (!program) return 'the command is empty';
  if (program.includes('/')) {
    const path = isAbsolute(program) || !cwd ? program : join(cwd, program);
    if (!isFile(path)) return `${program} does not exist`;
    return executable(path) ? undefined : `${program} is not executable`;
  }
  return tools.findExecutable(program, env) ? undefined : `${program} is not on PATH`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
