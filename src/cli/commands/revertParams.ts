import { resolveConfig } from '../../config/resolveConfig.js';
import { createParameterRun, revertLeftovers } from '../../params/index.js';
import { acquireRunLock } from '../../lock/runLock.js';
import { openTargets } from '../../targets/openTargets.js';
import { EXIT } from '../exitCodes.js';
import { withConnectionOptions, withOutputOptions } from '../options.js';
import type { CommandSpec } from './CommandSpec.js';

/**
 * Puts back every parameter change that a run no longer running left behind (SIGKILL, a crash, a deferral), and
 * nothing else. It takes the run lock first, so it never touches the values of a migration in progress.
 */
export const revertParamsCommand: CommandSpec = {
  builder: (y) => withOutputOptions(withConnectionOptions(y)),
  async run(_argv, input, out) {
    const config = resolveConfig(input);
    const opened = await openTargets(config, 'revert-params');
    try {
      if (opened.failures.length > 0) throw opened.failures[0].error;
      const lock = await acquireRunLock(opened.targets, config.lockTimeoutMs, { command: 'revert-params' });
      try {
        const run = createParameterRun({
          runId: lock.runId, targets: opened.targets, adminFor: opened.adminFor, command: 'revert-params',
        });
        const { found, reverted, deferred } = await revertLeftovers(run);
        if (out.json) {
          out.printJson({ ok: true, found: found.length, reverted, deferred });
        } else if (found.length === 0) {
          out.line('Nothing to put back: every journaled parameter change was already reverted.');
        } else {
          for (const e of reverted) {
            out.line(`put back ${e.parameter} (${e.scope}${e.object ? ` ${e.object}` : ''}) on ${e.database}: ${e.next} → ${e.previous ?? '(no setting)'}`);
          }
          for (const e of deferred) out.line(`left ${e.parameter} at ${e.next} on ${e.database}: ${e.note ?? 'another run still needs it'}`);
        }
        return EXIT.OK;
      } finally {
        await lock.release();
      }
    } finally {
      await opened.close();
    }
  },
};
