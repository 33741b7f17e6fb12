import semver from 'semver';
import { finding, type Finding } from '../../src/core/Gate.js';
import type { PlanInput } from '../../src/core/PlanInput.js';
import type { Step, StepContext } from '../../src/core/Step.js';
import { OmMigrateError } from '../../src/errors.js';

const NAME = 'openmetadata/server-migrate';

/**
 * OpenMetadata's own migrator, always run: whether anything is pending is its business (docs/facts/openmetadata.md,
 * "Migration workflow"), and when nothing is, its no-op is the proof. Exit codes as OpenMetadataOperations has them:
 * 0 done, 1 any exception, 2 usage. A 1 after the database reached the version it should (the search-index update that
 * follows the database failed: openmetadata-helm-charts#451) is its own outcome: the database is migrated, the index
 * must be rebuilt; and the code read logs index failures as warnings with exit 0, so the output is read for them too.
 */
export const serverMigrateStep: Step = {
  name: NAME,
  defaultTimeoutMs: 6 * 3_600_000,
  appliesTo: (input) => input.openmetadata !== undefined,
  describe(input) {
    const om = input.openmetadata!;
    const from = input.versions.openmetadata?.current ?? 'a fresh database';
    const what = om.pending === undefined ? `the migrator decides what is pending (no distribution at ${om.migrator.cwd})`
      : om.pending.length === 0 ? 'nothing pending: the migrator runs and does nothing'
        : `${om.pending.length} version(s) pending: ${om.pending.length > 4 ? `${om.pending.slice(0, 2).join(', ')} … ${om.pending.slice(-2).join(', ')}` : om.pending.join(', ')}`;
    return `${om.migrator.display} (${om.migrator.form}): ${from} → ${om.expected ?? om.target ?? 'the release installed'}; ${what}`;
  },
  async run(ctx: StepContext) {
    const target = ctx.target('openmetadata');
    const om = ctx.input.openmetadata;
    if (!target || !om) throw new OmMigrateError('INTERNAL', `${NAME} planned without an OpenMetadata database`);
    const current = async () => ctx.tools.openmetadata.currentOpenMetadataVersion((await target.dialect.openmetadata.changeLogVersions()) ?? []);
    const before = await current();
    const seen = { indexFailures: 0, forcedFailures: [] as string[] };
    const result = await ctx.runMigrator({
      role: 'openmetadata', argv: om.migrator.argv, cwd: om.migrator.cwd, label: NAME,
      onLine(line) {
        if (INDEX_FAILURE.test(line)) seen.indexFailures += 1;
        else if (/\b(failed|error)\b/i.test(line)) seen.forcedFailures.push(line);
      },
    });
    const after = await current();
    const reached = om.expected === undefined ? after !== undefined : after !== undefined && semver.gte(after, om.expected);
    const detail = `${before ?? 'fresh'} → ${after ?? 'no version'}`;
    const migratedButFailed = result.code === 1 && reached && before !== after;
    const warnings: Finding[] = [
      ...indexWarnings(seen.indexFailures > 0 || migratedButFailed, result.code === 0 || reached, om),
      ...forcedFailures(seen.forcedFailures, ctx),
    ];
    if (result.code !== 0 && !migratedButFailed) {
      const how = result.timedOut ? 'ran past its time limit and was stopped' : result.signal ? `was killed by ${result.signal}`
        : result.spawnError ? `could not be started (${result.spawnError})` : `exited with ${result.code}`;
      throw new OmMigrateError('STEP_FAILED', `OpenMetadata's migrator ${how}; the database is at ${after ?? 'no version'}`, {
        hint: result.code === 2 ? 'The migrator refused its command line (a usage error): check --om-migrator-args and --om-home.'
          : 'Read the migrator output above, fix the cause, and run om-migrate up again.',
        details: { step: NAME, exitCode: result.code, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    if (!reached) {
      throw new OmMigrateError('STEP_FAILED', `OpenMetadata's migrator succeeded but the database is at ${after ?? 'no version'}, not ${om.expected}`, {
        hint: 'Is --om-home the distribution you meant? Run ./bootstrap/openmetadata-ops.sh info there to see what it applied.',
        details: { step: NAME, before: before ?? null, after: after ?? null, outputTail: result.tail },
      });
    }
    if (forcedAcross111(ctx.input, before)) await recoverAfterForce(ctx);
    return { detail: result.code === 0 ? detail : `${detail}; the search index update failed`, outputTail: result.tail, warnings };
  },
};

/** What OpenMetadata logs when an index update fails (SearchRepository.updateIndex catches and logs every exception). */
const INDEX_FAILURE = /Failed to Update Index|Failed to create index template/i;

/** The search-index update after the database: exit 1 with the database migrated, or index failures in the output. */
function indexWarnings(failed: boolean, databaseMigrated: boolean, om: NonNullable<PlanInput['openmetadata']>): Finding[] {
  if (!databaseMigrated || !failed) return [];
  return [finding('server-migrate', 'openmetadata', 'warn', 'the database is migrated, but updating the search indexes failed',
    `Once the search service is reachable: cd ${om.migrator.cwd} && ./bootstrap/openmetadata-ops.sh reindex (or reindex from the UI).`,
    { code: 'search-reindex-needed' })];
}

/** --force swallows step failures and exits 0: they show only in its output. */
function forcedFailures(failed: string[], ctx: StepContext): Finding[] {
  if (!ctx.config.migrators.omArgs.includes('--force')) return [];
  return failed.length === 0 ? [] : [finding('server-migrate', 'openmetadata', 'warn',
    `--force let ${failed.length} failure(s) pass: ${failed.slice(0, 3).join(' | ')}`,
    'Read the migrator output; a forced run records every version as done even where a step failed.', { code: 'forced-failures', lines: failed })];
}

/** A forced migrate from below 1.11 to 1.11 or later loses roles, policies and bot relationships (PR #24985). */
export function forcedAcross111(input: PlanInput, before: string | undefined): boolean {
  const om = input.openmetadata;
  return om !== undefined && om.migrator.argv.includes('--force') && before !== undefined && semver.lt(before, '1.11.0')
    && om.expected !== undefined && semver.gte(om.expected, '1.11.0');
}

/** 1.11.4's `recover` puts back what a forced migration across 1.11 lost; the versions gate allows --force only then. */
async function recoverAfterForce(ctx: StepContext): Promise<void> {
  const recover = ctx.tools.openmetadata.migratorCommand(ctx.config.migrators, ctx.config.env, 'recover');
  ctx.log(`running ${recover.display} after the forced migration (PR #24985)`);
  const result = await ctx.runMigrator({ role: 'openmetadata', argv: recover.argv, cwd: recover.cwd, label: `${NAME} recover` });
  if (result.code !== 0) {
    throw new OmMigrateError('STEP_FAILED', `openmetadata-ops.sh recover exited with ${result.code} after a forced migration across 1.11`, {
      hint: 'Roles, policies and bot relationships may be missing: run ./bootstrap/openmetadata-ops.sh recover by hand before starting the server.',
      details: { step: NAME, outputTail: result.tail },
    });
  }
}
