import { resolveRestore } from '../../api/resolveRestore.js';
import { resolveConfig } from '../../config/resolveConfig.js';
import { EXIT } from '../exitCodes.js';
import type { CommandSpec } from './CommandSpec.js';

export const resolveRestoreCommand: CommandSpec = {
  name: 'resolve-restore',
  async run(input, out) {
    const result = await resolveRestore(resolveConfig(input, process.env, { command: 'resolve-restore' }));
    out.result('resolve-restore', EXIT.OK, result, () => {
      if (result.resolved.length === 0) out.line('Nothing to settle: no restore-on-failure of these databases was cut off.');
      for (const r of result.resolved) {
        for (const d of r.databases) out.line(`run ${r.runId.slice(0, 8)}: ${d.text}${d.dropped.length ? `; dropped ${d.dropped.join(', ')}` : ''}`);
      }
    });
    return EXIT.OK;
  },
};
