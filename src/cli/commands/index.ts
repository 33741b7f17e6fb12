import type { CommandSpec } from './CommandSpec.js';

/** Every command, in the order --help lists them. Each lives in its own file beside this one. */
export const COMMANDS: CommandSpec[] = [];
