import { runUp } from '../../api/up.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { usageError } from '../../errors.js';
import { runWrapped, wrappedCommandProblem } from '../../process/runWrapped.js';
import type { CommandSpec } from './CommandSpec.js';
import { eventPrinter, renderSummary, upExitCode } from './up.js';

/**
 * The container entrypoint: `up` configured from the environment, then the wrapped command. A failed `up` never
 * starts it: the container exits with up's code, so an orchestrator restarts or alerts instead of serving a half
 * migrated database. The wrapped command is checked before anything else, so a typo never migrates first.
 */
export const entrypointCommand: CommandSpec = {
  name: 'entrypoint',
  async run(input, out) {
    const wrapped = [...(input.command ?? []), ...(input['--'] ?? [])].map(String);
    if (wrapped.length === 0) {
      throw usageError('entrypoint needs the command to run after the migration', 'Write it after --, e.g. om-migrate entrypoint -- /openmetadata-start.sh');
    }
    const problem = wrappedCommandProblem(wrapped[0], process.env);
    if (problem) throw usageError(`entrypoint cannot run ${wrapped[0]}: ${problem}`, 'Check the wrapped command and PATH; nothing was migrated.');
    const config = resolveConfig(input, process.env, { command: 'entrypoint' });
    // A failed up throws: runCli reports it and exits with its code, and the wrapped command never starts.
    const summary = await runUp(config, { onEvent: await eventPrinter(out) });
    // "needs action" (15) is reported as such, but the upgrade is done: the server starts, the operator follows up.
    out.result('entrypoint', upExitCode(summary), summary, () => renderSummary(summary, out));
    return runWrapped(wrapped, config.env);
  },
};
