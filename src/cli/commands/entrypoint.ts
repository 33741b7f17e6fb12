import { runWrapped } from '../../process/runWrapped.js';
import { withConnectionOptions, withOutputOptions } from '../options.js';
import type { CommandSpec } from './CommandSpec.js';
import { upCommand, withUpOptions } from './up.js';

/**
 * The container entrypoint: `up` configured from the environment, then the wrapped command. A failed `up` never
 * starts it: the container exits with up's code, so an orchestrator restarts or alerts instead of serving a half
 * migrated database.
 */
export const entrypointCommand: CommandSpec = {
  builder: (y) => withUpOptions(withOutputOptions(withConnectionOptions(y))),
  async run(argv, input, out) {
    const wrapped = [...((argv.command as string[] | undefined) ?? []), ...((argv['--'] as string[] | undefined) ?? [])].map(String);
    if (wrapped.length === 0) return runWrapped(wrapped); // the usage error, before anything is migrated
    // A failed up throws: runCli reports it and exits with its code, and the wrapped command never starts.
    const code = await upCommand.run(argv, input, out);
    return code === 0 ? runWrapped(wrapped) : code;
  },
};
