import { revertParams } from '../../api/revertParams.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { EXIT } from '../exitCodes.js';
import type { CommandSpec } from './CommandSpec.js';

export const revertParamsCommand: CommandSpec = {
  name: 'revert-params',
  async run(input, out) {
    const result = await revertParams(resolveConfig(input, process.env, { command: 'revert-params' }));
    out.result('revert-params', EXIT.OK, result, () => {
      if (result.found === 0) {
        out.line('Nothing to put back: every journaled parameter change was already reverted.');
        return;
      }
      for (const e of result.reverted) {
        out.line(`put back ${e.parameter} (${e.scope}${e.object ? ` ${e.object}` : ''}) on ${e.database}: ${e.next} → ${e.previous ?? '(no setting)'}${e.note ? ` (${e.note})` : ''}`);
      }
      for (const e of result.deferred) out.line(`left ${e.parameter} at ${e.next} on ${e.database}: ${e.note ?? 'another run still needs it'}`);
      // Silence here would hide an attempt to make the admin connection run someone else's values.
      for (const r of result.rejected) out.line(`journal row ${r.id} in ${r.journal} was not run: ${r.reason}`);
    });
    return EXIT.OK;
  },
};
