import { join } from 'node:path';
import { currentOpenMetadataVersion } from '../../src/config/versions.js';
import { OmMigrateError } from '../../src/errors.js';
import type { Step, StepContext } from '../../src/core/Step.js';

const NAME = 'openmetadata/server-migrate';

/** Runs OpenMetadata's own migrator (openmetadata-ops.sh migrate) and checks the version it reached. */
export const serverMigrateStep: Step = {
  name: NAME,
  async run(ctx: StepContext) {
    const target = ctx.target('openmetadata');
    if (!target) throw new OmMigrateError('INTERNAL', `${NAME} planned without an OpenMetadata database`);
    const before = await currentVersion(ctx);
    const { omHome, omCommand, omConfig } = ctx.migrators;
    const argv = omCommand ? ['/bin/sh', '-c', omCommand]
      : [join(omHome, 'bootstrap/openmetadata-ops.sh'), '-c', omConfig ?? join(omHome, 'conf/openmetadata.yaml'), 'migrate'];
    const result = await ctx.runMigrator({ role: 'openmetadata', argv, label: NAME });
    const after = await currentVersion(ctx);
    if (result.code !== 0) {
      throw new OmMigrateError('STEP_FAILED', `OpenMetadata's migrator exited with ${result.code}; the database is at ${after ?? 'no version'}`, {
        hint: 'Read the migrator output above, fix the cause, and run om-migrate up again: it resumes at this step.',
        details: { step: NAME, exitCode: result.code, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    const wanted = ctx.config.targetVersion;
    if (wanted && after !== wanted) {
      throw new OmMigrateError('STEP_FAILED', `OpenMetadata's migrator succeeded but the database is at ${after ?? 'no version'}, not ${wanted}`, {
        hint: `Is the migrator (--om-home / --om-migrator) the ${wanted} release? Run openmetadata-ops.sh info to see what it applied.`,
        details: { step: NAME, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    return { detail: `${before ?? 'fresh'} → ${after ?? 'no version'}`, outputTail: result.tail };
  },
};

async function currentVersion(ctx: StepContext): Promise<string | undefined> {
  const versions = await ctx.target('openmetadata')!.dialect.openmetadata.changeLogVersions();
  return versions ? currentOpenMetadataVersion(versions) : undefined;
}
