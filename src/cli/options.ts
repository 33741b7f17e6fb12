import type { Argv, Options } from 'yargs';
import { optionsOf, type CommandName, type OptionSpec } from '../config/options.js';

/**
 * The yargs options of one command, built from the option table (src/config/options.ts). Each names the environment
 * variable it falls back to in --help; the fallback itself is done by resolveConfig, the only reader of the
 * environment. Choices that decide what one invocation does are marked "[command line only]".
 */
export function withCommandOptions<T>(y: Argv<T>, command: CommandName): Argv<T> {
  let result = y;
  for (const [, spec] of optionsOf(command)) result = result.option(spec.flag, toYargs(spec));
  return result;
}

function toYargs(spec: OptionSpec): Options {
  // Choices are checked by resolveConfig, so a bad value reads the same from a flag and from the environment.
  const where = spec.cliOnly ? 'command line only' : spec.env ? `env: ${spec.env}` : spec.envNote ? `env: ${spec.envNote}` : undefined;
  return {
    type: spec.kind,
    describe: where ? `${spec.describe} [${where}]` : spec.describe,
    group: spec.group,
    ...(spec.default !== undefined ? { default: spec.default } : {}),
  };
}
