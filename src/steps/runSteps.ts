import { MigrationError, Umzug } from 'umzug';
import { STEPS } from '../../migrations/index.js';
import { configRedactor } from '../config/secrets.js';
import type { RunConfig } from '../config/resolveConfig.js';
import type { Finding } from '../core/Gate.js';
import type { PlanInput } from '../core/PlanInput.js';
import type { StepContext, StepEvent, StepOutcome, StepSummary } from '../core/Step.js';
import type { ConnectedTarget } from '../core/Target.js';
import type { Dialect, LedgerStore } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import { LedgerStorage } from './LedgerStorage.js';
import { runMigrator } from './runMigrator.js';
import { stepDeadline } from './stepDeadline.js';
import { stepState } from './stepState.js';
import { STEP_TOOLS } from './stepTools.js';

export interface StepRun {
  config: RunConfig;
  input: PlanInput;
  targets: ConnectedTarget[];
  ledger: LedgerStore;
  runId: string;
  planId: string;
  targetVersion: string;
  /** The plan's steps with their time limits; they run in migrations/index.ts's order. */
  planned: Array<{ name: string; timeoutMs: number }>;
  /** SIGTERM, then SIGKILL this long after, to a step's migrator that is stopped (default spawnChild's). */
  graceMs?: number;
  signal: AbortSignal;
  emit(event: StepEvent): void;
  /** The verified admin connection of a target, when one is configured (opened on demand). */
  adminFor?(target: ConnectedTarget): Promise<Dialect | undefined>;
  /** Told the process group of the migrator running now (undefined when it is gone). */
  onChild?(pgid: number | undefined): Promise<void>;
  /** Each step's outcome as it finishes (also the failed one), in order. */
  summaries: StepSummary[];
  /** What the steps left for the operator (a search index to rebuild, ids to fix). */
  warnings: Finding[];
}

/**
 * The planned steps through Umzug: its `migrating` event writes the ledger row that says a step started and what it
 * found, its storage writes what the step reached once it finished, and a failing step surfaces as Umzug's
 * MigrationError, whose cause is the step's own typed error. Every step runs again in every run that plans it.
 */
export async function runSteps(run: StepRun): Promise<void> {
  const { ledger, signal } = run;
  const redactor = configRedactor(run.config);
  const storage = new LedgerStorage(ledger, run.runId);
  const started = new Map<string, number>();
  const umzug = new Umzug<StepContext>({
    migrations: STEPS.flatMap((step) => run.planned.filter((p) => p.name === step.name).map((planned) => ({
      name: step.name,
      up: async ({ context }: { context: StepContext }) => {
        // Only the last lines are kept: a migrator may print millions.
        const lines: string[] = [];
        const log = (line: string) => {
          lines.push(line);
          if (lines.length > 40) lines.shift();
          run.emit({ type: 'step-output', name: step.name, line });
        };
        const deadline = stepDeadline(signal, step.name, planned.timeoutMs);
        let outcome: StepOutcome;
        try {
          outcome = await step.run({
            ...context,
            // A SQL step (the repair, the stale runs) stops at its time limit as a migrator does: its statement is
            // cancelled on the server through this signal.
            signal: deadline.signal,
            log,
            runMigrator: (m) => runMigrator(m, {
              target: run.targets.find((t) => t.role === m.role)!, redactor, signal, onChild: run.onChild,
              onLine: (line) => { log(line); m.onLine?.(line); },
              timeoutMs: planned.timeoutMs, graceMs: run.graceMs, env: run.config.env,
            }),
          });
        } catch (error) {
          // The cancelled statement's own error (1317, 57014) is not the story; a migrator's own message is.
          if (deadline.expired() && !isOmMigrateError(error)) throw deadline.reason;
          throw error;
        } finally {
          deadline.dispose();
        }
        storage.records.set(step.name, {
          rowId: started.get(step.name)!, outputTail: outcome.outputTail ?? (lines.join('\n') || null),
          stateAfter: JSON.stringify(await stepState(run.targets)),
        });
        run.warnings.push(...(outcome.warnings ?? []));
        run.summaries.push({ name: step.name, status: 'done', durationMs: Date.now() - startedAt.get(step.name)!, timeoutMs: planned.timeoutMs, detail: outcome.detail });
        run.emit({ type: 'step-finished', name: step.name, status: 'done', detail: outcome.detail });
      },
    }))),
    context: {
      config: run.config, input: run.input, runId: run.runId, migrators: run.config.migrators, signal,
      target: (role) => run.targets.find((t) => t.role === role),
      admin: async (role) => {
        const target = run.targets.find((t) => t.role === role);
        return target && run.adminFor ? run.adminFor(target).catch(() => undefined) : undefined;
      },
      log: () => undefined,
      runMigrator: () => Promise.reject(new OmMigrateError('INTERNAL', 'runMigrator outside a step')),
      tools: STEP_TOOLS,
    },
    storage,
    logger: undefined,
  });
  const startedAt = new Map<string, number>();
  umzug.on('migrating', async ({ name }) => {
    run.emit({ type: 'step-started', name });
    startedAt.set(name, Date.now());
    started.set(name, await ledger.start({
      runId: run.runId, planId: run.planId, step: name, targetVersion: run.targetVersion,
      stateBefore: JSON.stringify(await stepState(run.targets)),
    }));
  });
  try {
    await umzug.up();
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    const name = error.migration.name;
    const cause = signal.aborted ? signal.reason as unknown : error.cause;
    const detail = isOmMigrateError(cause) ? cause.message : String((cause as Error)?.message ?? cause);
    const tail = isOmMigrateError(error.cause) && typeof error.cause.details?.outputTail === 'string' ? error.cause.details.outputTail : null;
    const rowId = started.get(name);
    if (rowId !== undefined) {
      const after = await stepState(run.targets).catch(() => undefined);
      await ledger.finish(rowId, signal.aborted ? 'interrupted' : 'failed', { outputTail: tail, stateAfter: after ? JSON.stringify(after) : null })
        .catch(() => undefined);
    }
    const timeoutMs = run.planned.find((p) => p.name === name)?.timeoutMs ?? 0;
    run.summaries.push({ name, status: 'failed', durationMs: Date.now() - (startedAt.get(name) ?? Date.now()), timeoutMs, detail });
    run.emit({ type: 'step-finished', name, status: 'failed', detail });
    throw cause;
  }
}

