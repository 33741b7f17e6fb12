import type { Argv } from 'yargs';
import type { ConfigInput } from '../../config/resolveConfig.js';
import type { Output } from '../output.js';

/** One yargs command: a thin layer that resolves configuration, calls the library, prints, and returns the exit status. */
export interface CommandSpec {
  builder: (y: Argv) => Argv;
  run(argv: Record<string, unknown>, input: ConfigInput, out: Output): Promise<number>;
}
