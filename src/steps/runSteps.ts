import { Umzug } from 'umzug';
import { STEPS } from '../../migrations/index.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { ConnectedTarget } from '../core/Gate.js';
import { LedgerStorage } from './LedgerStorage.js';
import type { StepContext } from '../core/Step.js';
import { configRedactor } from '../config/secrets.js';
import { runMigrator } from './runMigrator.js';
import type { MigratorOptions, StepEvent, StepSummary } from '../core/Step.js';

/** The planned steps through Umzug over the ledger: a step an earlier run of this target finished is not run again. */
export async function runSteps(config: RunConfig, options: { migrators: MigratorOptions }, targets: ConnectedTarget[], ledgerTarget: ConnectedTarget,
  key: string, runId: string, planned: string[], backupId: string | null, steps: StepSummary[], signal: AbortSignal,
  emit: (e: StepEvent) => void): Promise<void> {
  const ledger = ledgerTarget.dialect.ledger;
  const redactor = configRedactor(config);
  const alreadyDone = new Set((await ledger.done(key)).map((e) => e.step));
  // Every step an earlier run of this target finished, in step order, also those no longer planned because their
  // work shows now (the OpenMetadata database already at the target, Airflow no longer half-applied).
  for (const name of Object.keys(STEPS)) {
    if (alreadyDone.has(name)) steps.push({ name, status: 'already-done', durationMs: 0, detail: 'finished by an earlier, interrupted run' });
  }
  const umzug = new Umzug<StepContext>({
    migrations: planned.map((name) => ({
      name,
      up: async ({ context }) => {
        const step = STEPS[name];
        if (!step) throw new OmMigrateError('INTERNAL', `no step called ${name}`);
        emit({ type: 'step-started', name });
        const started = Date.now();
        const id = await ledger.start({ step: name, targetVersion: key, runId, backupId });
        // Only the last lines are kept: a migrator may print millions.
        const lines: string[] = [];
        const log = (line: string) => {
          lines.push(line);
          if (lines.length > 40) lines.shift();
          emit({ type: 'step-output', name, line });
        };
        try {
          const outcome = await step.run({
            ...context,
            log,
            runMigrator: (run) => runMigrator(run, {
              target: targets.find((t) => t.role === run.role)!, redactor, signal, onLine: log,
            }),
          });
          await ledger.finish(id, 'done', outcome.outputTail ?? (lines.join('\n') || null));
          steps.push({ name, status: 'done', durationMs: Date.now() - started, detail: outcome.detail });
          emit({ type: 'step-finished', name, status: 'done', detail: outcome.detail });
        } catch (error) {
          const tail = (isOmMigrateError(error) && typeof error.details?.outputTail === 'string') ? error.details.outputTail : lines.join('\n');
          await ledger.finish(id, 'failed', tail || null).catch(() => undefined);
          const detail = isOmMigrateError(error) ? error.message : String(error);
          steps.push({ name, status: 'failed', durationMs: Date.now() - started, detail });
          emit({ type: 'step-finished', name, status: 'failed', detail });
          throw error;
        }
      },
    })),
    context: {
      config, runId, migrators: options.migrators, signal,
      target: (role) => targets.find((t) => t.role === role),
      log: () => undefined,
      runMigrator: () => Promise.reject(new OmMigrateError('INTERNAL', 'runMigrator outside a step')),
    },
    storage: new LedgerStorage(ledger, key),
    logger: undefined,
  });
  try {
    await umzug.up();
  } catch (error) {
    // Umzug wraps a step's error; the step's own typed error is what the operator needs to see.
    const cause = (error as { cause?: unknown }).cause;
    if (signal.aborted) throw signal.reason;
    throw isOmMigrateError(cause) ? cause : cause ?? error;
  }
}

