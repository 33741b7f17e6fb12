import type { CommandSpec } from './CommandSpec.js';
import { preflightCommand } from './preflight.js';
import { repairAirflowCommand } from './repairAirflow.js';
import { revertParamsCommand } from './revertParams.js';

/** Every command, in the order --help lists them. Each lives in its own file beside this one. */
export const COMMANDS: CommandSpec[] = [preflightCommand, repairAirflowCommand, revertParamsCommand];
