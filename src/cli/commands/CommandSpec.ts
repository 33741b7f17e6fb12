import type { CommandName, ConfigInput } from '../../config/options.js';
import type { Output } from '../output.js';

/** What a command receives: the parsed options (typed by the option table) and the words after --. */
export type CommandInput = ConfigInput & { '--'?: string[]; command?: string[] };

/** One yargs command: a thin layer that resolves configuration, calls the library, prints, and returns the exit status. */
export interface CommandSpec {
  name: CommandName;
  run(input: CommandInput, out: Output): Promise<number>;
}
