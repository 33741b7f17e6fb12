import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { STEPS } from '../../migrations/index.js';
import { MAX_JOBS } from '../config/resolveConfig.js';
import type { ConnectedTarget } from '../core/Target.js';
import { OmMigrateError } from '../errors.js';
import { fileProblem } from '../process/pathTrust.js';
import { omMigrateVersion } from '../version.js';
import { planIdentity, type RunPlan } from './buildPlan.js';
import { describeDifference, planDiff } from './planDiff.js';

/**
 * A plan saved by `preflight --dry-run --out FILE` and run by `up --plan FILE`, as `terraform plan -out` / `apply`:
 * JSON data, never code. Its digest (SHA-256 over the canonical JSON of everything else) detects an edit; it is no
 * signature: the checks that make a plan safe to run are made against the live databases, not against the file —
 * its id and fingerprint are computed again from its own content and must be those of the plan the live databases
 * give now, and every parameter change must pass the allow-list a journal row must pass. No statement in it is run:
 * the dialect builds them from the validated values. It holds no credential (host, port and database names only).
 */
export const PLAN_FORMAT = 'om-migrate-plan';
export const PLAN_FORMAT_VERSION = 1;

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  formatVersion: number;
  omMigrateVersion: string;
  createdAt: string;
  plan: RunPlan;
  /** "sha256:<hex>" over the canonical JSON of the other fields. */
  digest: string;
}

const RERUN = 'Re-run om-migrate preflight --dry-run --out FILE with the same configuration, review the new plan, and run up --plan FILE with it.';
const STEP_TIMEOUT_MAX_MS = 7 * 24 * 3600_000;

/** JSON with every object's keys in sorted order: the same plan always gives the same bytes, hence the same digest. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

export function planDigest(body: Omit<PlanFile, 'digest'>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

export function planFileText(plan: RunPlan, now = new Date()): string {
  const body = { format: PLAN_FORMAT as typeof PLAN_FORMAT, formatVersion: PLAN_FORMAT_VERSION, omMigrateVersion: omMigrateVersion(), createdAt: now.toISOString(), plan };
  return `${JSON.stringify({ ...body, digest: planDigest(body) }, null, 2)}\n`;
}

/**
 * Writes the plan mode 0600 through a new file renamed over FILE: never through a symbolic link or onto something
 * that is not a regular file (a link planted at FILE would otherwise point the write elsewhere).
 */
export async function writePlanFile(path: string, plan: RunPlan): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isFile()) {
    throw new OmMigrateError('USAGE', `${path} is ${existing.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: the plan is not written there`,
      { hint: 'Give --out the path of a new file, or of a regular file to replace.' });
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(planFileText(plan));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}

/** The plan in FILE, once the file is ours, of this format, unedited and well-formed; BLOCKED (exit 4) otherwise. */
export function readPlanFile(path: string): RunPlan {
  const refuse = (why: string) => new OmMigrateError('BLOCKED', `the saved plan ${path} is not run: ${why}; nothing was changed`, { hint: RERUN });
  // Ours and writable by nobody else, as the journal files: a plan anyone could have rewritten is not the approved one.
  const problem = fileProblem(path);
  if (problem) throw refuse(problem);
  let parsed: Partial<PlanFile>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<PlanFile>;
  } catch (error) {
    throw refuse(`it is not JSON (${(error as Error).message})`);
  }
  if (parsed?.format !== PLAN_FORMAT) throw refuse('it is not an om-migrate plan');
  if (parsed.formatVersion !== PLAN_FORMAT_VERSION) throw refuse(`its format version ${String(parsed.formatVersion)} is not ${PLAN_FORMAT_VERSION}`);
  const { digest, ...body } = parsed;
  if (typeof digest !== 'string' || digest !== planDigest(body as Omit<PlanFile, 'digest'>)) {
    throw refuse('it was edited after preflight wrote it (its digest does not match its content)');
  }
  const shape = shapeProblems(parsed.plan);
  if (shape.length > 0) throw refuse(shape.join('; '));
  return parsed.plan!;
}

/**
 * Why the saved plan may not run on these databases now, or an empty list: another target, a fingerprint the live
 * databases no longer give (versions, rows, revisions, parameter values moved; an edited fact), a parameter change
 * outside the journal's allow-list.
 */
export function savedPlanProblems(saved: RunPlan, now: RunPlan, targets: ConnectedTarget[]): string[] {
  const problems: string[] = [];
  const diff = planDiff(saved, now).filter((d) => d.kind === 'fact');
  const databases = diff.find((d) => d.what === 'databases');
  if (databases) problems.push(`it is for other databases (${databases.a}; this run: ${databases.b})`);
  const own = planIdentity(saved);
  if (own.id !== saved.id || own.fingerprint !== saved.fingerprint) problems.push('its id or fingerprint is not that of its own content');
  if (own.fingerprint !== now.fingerprint || own.id !== now.id || diff.length > 0) {
    const what = diff.filter((d) => d.what !== 'databases').map(describeDifference);
    problems.push(`the databases no longer match it${what.length > 0 ? ` (saved | now: ${what.slice(0, 4).join('; ')})` : ''}`);
  }
  for (const change of saved.parameterChanges) {
    const target = targets.find((t) => t.role === change.target);
    const invalid = target ? target.dialect.params.validate(change) : `no ${change.target} database in this run`;
    if (invalid) problems.push(`parameter change ${change.parameter} on ${change.target}: ${invalid}`);
  }
  return problems;
}

export function stalePlanError(path: string, problems: string[]): OmMigrateError {
  return new OmMigrateError('BLOCKED', `the saved plan ${path} is not run: ${problems.join('; ')}; nothing was changed`,
    { hint: RERUN, details: { planFile: path, problems } });
}

/** The plan's form, checked before anything in it is believed: types, names from the allow-lists, bounds. */
function shapeProblems(plan: unknown): string[] {
  const p = plan as Partial<RunPlan> | undefined;
  if (!p || typeof p !== 'object') return ['it holds no plan'];
  const problems: string[] = [];
  const check = (ok: boolean, why: string) => { if (!ok) problems.push(why); };
  const roles = ['openmetadata', 'airflow'];
  check(typeof p.id === 'string' && /^[0-9a-f]{16}$/.test(p.id), 'its id is not 16 hex digits');
  check(typeof p.fingerprint === 'string' && /^[0-9a-f]{64}$/.test(p.fingerprint), 'its fingerprint is not a SHA-256');
  check(typeof p.nothingPending === 'boolean' && typeof p.summary === 'string', 'it lacks its summary');
  check(p.targetVersion === null || typeof p.targetVersion === 'string', 'its target version is not a string');
  check(typeof p.state === 'object' && p.state !== null, 'it lacks its starting state');
  check(Array.isArray(p.releasePath), 'it lacks its release path');
  check(Array.isArray(p.databases) && p.databases.every((d) => roles.includes(d?.role) && ['mysql', 'postgres'].includes(d?.engine)
    && typeof d.host === 'string' && Number.isInteger(d.port) && typeof d.database === 'string'), 'its databases are not well-formed');
  const known = STEPS.map((s) => s.name);
  check(Array.isArray(p.steps) && p.steps.every((s) => known.includes(s?.name) && typeof s.description === 'string'
    && Number.isInteger(s.timeoutMs) && s.timeoutMs >= 1000 && s.timeoutMs <= STEP_TIMEOUT_MAX_MS),
  `its steps are not om-migrate's, or a time limit is not from 1 s to 7 days (${known.join(', ')})`);
  check(Array.isArray(p.backups) && p.backups.every((b) => roles.includes(b?.target) && typeof b.file === 'string' && isAbsolute(b.file)
    && !b.file.includes('\0') && ['none', 'gzip', 'zstd'].includes(b.compression) && Number.isInteger(b.jobs) && b.jobs >= 1 && b.jobs <= MAX_JOBS),
  'its backups are not absolute paths with a compression and a job count');
  check(Array.isArray(p.parameterChanges) && p.parameterChanges.every((c) => roles.includes(c?.target)
    && ['sort_buffer_size', 'work_mem', 'log_bin_trust_function_creators'].includes(c.parameter)
    && ['global', 'database', 'role', 'system'].includes(c.scope) && (c.object === null || typeof c.object === 'string')
    && (c.previous === null || typeof c.previous === 'string') && typeof c.next === 'string'
    && (c.atLeastBytes === null || (Number.isSafeInteger(c.atLeastBytes) && c.atLeastBytes > 0))
    && (c.parameter === 'log_bin_trust_function_creators') === (c.atLeastBytes === null)),
  'its parameter changes are not ones om-migrate makes');
  const failure = p.onFailure;
  check(typeof failure === 'object' && failure !== null && typeof failure.restore === 'boolean' && typeof failure.summary === 'string'
    && Array.isArray(failure.databases) && (failure.lastRehearsalRestoreMs === null || typeof failure.lastRehearsalRestoreMs === 'number'),
  'it does not say what a failure triggers');
  return problems;
}
