import { join } from 'node:path';
import { detectAirflowState } from '../airflow/detectAirflowState.js';
import { planRepair, type RepairAction, type RepairOptions, type RepairPlan } from '../airflow/planRepair.js';
import { assertNoMigrationRunning } from '../airflow/migrationActivity.js';
import { readIntegrity } from '../airflow/readIntegrity.js';
import { runRepair, type RepairResult } from '../airflow/runRepair.js';
import { pruneBackups, sparedBackups } from '../backup/pruneBackups.js';
import { runBackup } from '../backup/runBackup.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { connect } from '../dialects/connect.js';
import { OmMigrateError } from '../errors.js';
import { repairNeeds } from '../plan/privilegeNeeds.js';
import { openVerifiedAdmin } from '../targets/openTargets.js';
import type { Dialect, PrivilegeNeed } from '../dialects/types.js';
import { stepDeadline } from '../steps/stepDeadline.js';
import { repairUuidPkStep } from '../../migrations/airflow/repairUuidPk.js';
import { withLockedTargets } from '../engine/withRunLock.js';

export interface RepairAirflowOptions extends Omit<RepairOptions, 'backupVerified' | 'confirmed'> {
  dryRun?: boolean;
  /** Take a verified backup of the Airflow database first (the default); false is --no-backup. */
  backup?: boolean;
  onBackup?(event: { phase: 'started'; database: string } | { phase: 'done'; file: string }): void;
  onAction?: (action: RepairAction, index: number, total: number) => void;
}

export type RepairAirflowOutcome =
  | { dryRun: true; plan: RepairPlan }
  | { dryRun: false; plan: RepairPlan; result: RepairResult; backup: string | undefined };

/** `om-migrate repair-airflow`: lock → detect → plan → (dry run stops here) → backup → run → verify. */
export async function repairAirflow(config: RunConfig, options: RepairAirflowOptions = {}): Promise<RepairAirflowOutcome> {
  const spec = config.airflow;
  if (!spec) {
    throw new OmMigrateError('USAGE', 'repair-airflow needs the Airflow database', {
      hint: 'Give --airflow-url or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN.',
    });
  }
  const repairOptions = { ...options, confirmed: config.yes };
  const dialect = await connect(spec, { purpose: 'repair-airflow', timeoutMs: config.connectTimeoutMs });
  try {
    if (options.dryRun) {
      // Read-only: no lock, no backup; planning also validates the flags.
      const state = await detectAirflowState(dialect);
      const plan = planRepair(state, dialect.airflowRepair, { ...repairOptions, backupVerified: true, integrity: await readIntegrity(dialect, state) });
      return { dryRun: true, plan };
    }
    const target = { role: 'airflow' as const, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
    // The one lock frame (withLockedTargets): the same run lock as up's, with a holder row, so either names the other
    // when they meet; watched, so that losing it (or SIGINT/SIGTERM) cancels the running statement and nothing more runs.
    return await withLockedTargets([target], config, { lockCommand: 'repair-airflow' }, async ({ interruption }) => {
      let observer: Dialect | undefined;
      try {
        const { signal } = interruption;
        // Airflow's own migrator does not take om-migrate's lock: check its lock and running DDL before the snapshot,
        // through the admin connection when there is one (it sees every account's sessions).
        observer = await openVerifiedAdmin(config, target, 'repair-airflow');
        await assertNoMigrationRunning(dialect, 'repairing', observer);
        const state = await detectAirflowState(dialect);
        const integrity = await readIntegrity(dialect, state);
        // Planned once without the backup so that NOTHING_TO_DO and refusals come before a backup is taken.
        const planned = planRepair(state, dialect.airflowRepair, { ...repairOptions, backupVerified: true, integrity });
        // So do missing privileges (the repair's DDL, DROP FUNCTION).
        await assertPrivileges(dialect, repairNeeds(planned, spec.engine));
        let backup: string | undefined;
        if (options.backup !== false) {
          options.onBackup?.({ phase: 'started', database: spec.database });
          const manifest = await runBackup({ role: 'airflow', dialect, server: target.server }, config, { signal });
          backup = join(config.backupDir, manifest.file);
          // --keep as `backup` applies it; the ledger seen is the Airflow database's (an up of both keeps it in OpenMetadata's).
          if (config.backupKeep !== undefined) await pruneBackups(config.backupDir, manifest, config.backupKeep, await sparedBackups(dialect.ledger));
          options.onBackup?.({ phase: 'done', file: backup });
        }
        const plan = planRepair(state, dialect.airflowRepair, { ...repairOptions, backupVerified: backup !== undefined, integrity });
        signal.throwIfAborted();
        // The repair runs under the step's time limit as in up (--step-timeout, else repairUuidPkStep's 2h): a
        // statement waiting for another session's lock is cancelled then.
        const deadline = stepDeadline(signal, 'airflow/repair-uuid-pk', config.stepTimeoutMs ?? repairUuidPkStep.defaultTimeoutMs);
        try {
          const result = await runRepair(dialect, plan, { onAction: options.onAction, signal: deadline.signal, observer });
          return { dryRun: false as const, plan, result, backup };
        } finally {
          deadline.dispose();
        }
      } finally {
        await observer?.close().catch(() => undefined);
      }
    });
  } finally {
    await dialect.close();
  }
}

/** BLOCKED, naming the GRANT, when the user lacks a privilege the repair needs: before any backup or change. */
async function assertPrivileges(dialect: Dialect, needs: PrivilegeNeed[]): Promise<void> {
  const gaps = (await dialect.missingPrivileges(needs)).filter((g) => g.certain);
  if (gaps.length === 0) return;
  throw new OmMigrateError('BLOCKED', `${dialect.spec.user} lacks ${gaps.map((g) => `${g.missing} (for ${g.why.join('; ')})`).join('; ')}; nothing was changed`, {
    hint: `${gaps.map((g) => g.grant).join(' ')} (as an administrator), then run repair-airflow again.`,
    details: { missing: gaps },
  });
}

