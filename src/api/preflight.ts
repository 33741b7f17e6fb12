import type { RunConfig } from '../config/resolveConfig.js';
import { preflightWithInput, type PreflightOptions, type PreflightReport } from '../engine/preflightWithInput.js';

export type { PreflightOptions, PreflightReport, PreflightResult, TargetSummary } from '../engine/preflightWithInput.js';
export type { RunPlan } from '../plan/buildPlan.js';

/** Every gate's read-only check over every configured database. Changes nothing on any server. */
export async function runPreflight(config: RunConfig, options: PreflightOptions = {}): Promise<PreflightReport> {
  return (await preflightWithInput(config, options)).report;
}
