import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import { connect } from '../dialects/connect.js';
import { acquireRunLock } from '../lock/runLock.js';
import { detectAirflowState } from '../airflow/detectAirflowState.js';
import { RepairAction, RepairOptions, RepairPlan, planRepair } from '../airflow/planRepair.js';
import { RepairResult, runRepair } from '../airflow/runRepair.js';

export interface RepairAirflowOptions extends Omit<RepairOptions, 'backupVerified'> {
  dryRun?: boolean;
  lockTimeoutMs?: number;
  /**
   * Takes and verifies a backup of the Airflow database; resolves to where it is. Absent: the caller chose
   * --no-backup, which --truncate-task-instance does not accept.
   */
  backup?: (spec: ConnectionSpec) => Promise<string>;
  onAction?: (action: RepairAction, index: number, total: number) => void;
}

export type RepairAirflowOutcome =
  | { dryRun: true; plan: RepairPlan }
  | { dryRun: false; plan: RepairPlan; result: RepairResult; backup: string | undefined };

/** The repair-airflow command as a library call: lock → detect → plan → (dry run stops here) → backup → run → verify. */
export async function repairAirflow(spec: ConnectionSpec, options: RepairAirflowOptions = {}): Promise<RepairAirflowOutcome> {
  const dialect = await connect(spec, { purpose: 'repair-airflow' });
  try {
    if (options.dryRun) {
      // Read-only: no lock, no backup; planning also validates the flags.
      const plan = planRepair(await detectAirflowState(dialect), dialect.airflowRepair, { ...options, backupVerified: true });
      return { dryRun: true, plan };
    }
    const target = { role: 'airflow' as const, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() };
    // The same run lock as up's, with a holder row, so either names the other when they meet.
    const lock = await acquireRunLock([target], options.lockTimeoutMs ?? 0, { command: 'repair-airflow' });
    try {
      const state = await detectAirflowState(dialect);
      // Planned once without the backup so that NOTHING_TO_DO and refusals come before a backup is taken.
      planRepair(state, dialect.airflowRepair, { ...options, backupVerified: true });
      const backup = options.backup ? await options.backup(spec) : undefined;
      const plan = planRepair(state, dialect.airflowRepair, { ...options, backupVerified: backup !== undefined });
      const result = await runRepair(dialect, plan, { onAction: options.onAction });
      return { dryRun: false, plan, result, backup };
    } finally {
      await lock.release().catch(() => undefined);
    }
  } finally {
    await dialect.close();
  }
}
