import { backupCommand } from './backup.js';
import type { CommandSpec } from './CommandSpec.js';
import { entrypointCommand } from './entrypoint.js';
import { preflightCommand } from './preflight.js';
import { repairAirflowCommand } from './repairAirflow.js';
import { restoreCommand } from './restore.js';
import { revertParamsCommand } from './revertParams.js';
import { statusCommand } from './status.js';
import { upCommand } from './up.js';

/** Every command, in the order --help lists them. Each lives in its own file beside this one. */
export const COMMANDS: CommandSpec[] = [
  preflightCommand, upCommand, backupCommand, restoreCommand, repairAirflowCommand, statusCommand, revertParamsCommand,
  entrypointCommand,
];
