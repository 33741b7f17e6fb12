import { basename, dirname } from 'node:path';
import { backupNameShape } from '../backup/backupFileName.js';
import type { PlannedChange } from '../core/Gate.js';
import type { RunPlan } from './buildPlan.js';

/** One way two plans differ: what, and its value in each ("-" when one plan has none). */
export interface PlanDifference {
  /** "state", "target version", "step openmetadata/server-migrate", "parameter openmetadata work_mem (database)", "backup airflow"… */
  what: string;
  /** A fact of the databases (versions, rows, the steps and parameters they call for), or a choice made for the run (names, limits). */
  kind: 'fact' | 'choice';
  a: string;
  b: string;
}

export interface PlanDiffOptions {
  /** Compare the databases and backups too (false for a rehearsal, whose copies have other names and take no backup). */
  databases: boolean;
}

/**
 * Every difference between two plans, step by step: what a saved plan says against what the live databases call for
 * now (up --plan), or the real databases' plan against the rehearsal copies' (rehearse). A change's object that is its
 * own database's name compares as "its database", so a copy's database-scoped work_mem is the same change.
 */
export function planDiff(a: RunPlan, b: RunPlan, options: PlanDiffOptions = { databases: true }): PlanDifference[] {
  const out: PlanDifference[] = [];
  const add = (what: string, kind: PlanDifference['kind'], x: unknown, y: unknown) => {
    const left = show(x);
    const right = show(y);
    if (left !== right) out.push({ what, kind, a: left, b: right });
  };
  if (options.databases) add('databases', 'fact', a.databases.map(describeDatabase), b.databases.map(describeDatabase));
  add('starting state', 'fact', a.state, b.state);
  add('target version', 'fact', a.targetVersion, b.targetVersion);
  add('nothing pending', 'fact', a.nothingPending, b.nothingPending);
  for (const name of union(a.steps.map((s) => s.name), b.steps.map((s) => s.name))) {
    const x = a.steps.find((s) => s.name === name);
    const y = b.steps.find((s) => s.name === name);
    if (!x || !y) add(`step ${name}`, 'fact', x ? 'planned' : undefined, y ? 'planned' : undefined);
    else add(`step ${name}: time limit`, 'choice', `${x.timeoutMs} ms`, `${y.timeoutMs} ms`);
  }
  // Up follows the plan's choice, but the gates checked what a restore needs only when the run itself asked for it.
  add('restore on failure', 'fact', a.onFailure?.restore ?? false, b.onFailure?.restore ?? false);
  if (a.steps.length === b.steps.length && a.steps.some((s, i) => s.name !== b.steps[i].name)) {
    add('step order', 'fact', a.steps.map((s) => s.name), b.steps.map((s) => s.name));
  }
  const key = (c: PlannedChange) => `${c.target} ${c.parameter} (${c.scope})`;
  for (const k of union(a.parameterChanges.map(key), b.parameterChanges.map(key))) {
    const x = a.parameterChanges.find((c) => key(c) === k);
    const y = b.parameterChanges.find((c) => key(c) === k);
    if (!x || !y) {
      add(`parameter ${k}`, 'fact', x && `${x.previous ?? '(not set)'} → ${x.next}`, y && `${y.previous ?? '(not set)'} → ${y.next}`);
      continue;
    }
    add(`parameter ${k}: attached to`, 'fact', objectOf(x, a), objectOf(y, b));
    add(`parameter ${k}: value before`, 'fact', x.previous ?? '(not set)', y.previous ?? '(not set)');
    add(`parameter ${k}: raised to`, 'fact', x.next, y.next);
  }
  if (options.databases) {
    for (const role of union(a.backups.map((x) => x.target), b.backups.map((x) => x.target))) {
      const x = a.backups.find((c) => c.target === role);
      const y = b.backups.find((c) => c.target === role);
      if (!x || !y) {
        add(`backup ${role}`, 'fact', x?.file, y?.file);
        continue;
      }
      add(`backup ${role}: name`, 'fact', backupNameShape(basename(x.file)), backupNameShape(basename(y.file)));
      add(`backup ${role}: directory`, 'choice', dirname(x.file), dirname(y.file));
      add(`backup ${role}: compression, jobs`, 'choice', `${x.compression}, ${x.jobs}`, `${y.compression}, ${y.jobs}`);
    }
  }
  return out;
}

/** One line per difference: "step airflow/db-migrate: planned | -". */
export function describeDifference(d: PlanDifference): string {
  return `${d.what}: ${d.a} | ${d.b}`;
}

function objectOf(change: PlannedChange, plan: RunPlan): string {
  if (change.object === null) return '-';
  const own = plan.databases.find((d) => d.role === change.target)?.database;
  return change.scope === 'database' && change.object === own ? '(its database)' : change.object;
}

function describeDatabase(d: RunPlan['databases'][number]): string {
  return `${d.role}: ${d.engine} ${d.host}:${d.port}/${d.database}`;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

function show(value: unknown): string {
  if (value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
