import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ConnectedTarget, finding, Finding, Gate, GateContext } from '../src/core/Gate.js';

const GATE = 'backup';
/** Dumps are text and usually larger than the data files; 1.2x is the margin the issue asks for. */
const SPACE_FACTOR = 1.2;

/** The dump tool runs, the backup directory can be written, and there is room for the dumps. */
export const backupReadinessGate: Gate = {
  id: GATE,
  title: 'Backup readiness',
  async check(ctx: GateContext): Promise<Finding[]> {
    const findings: Finding[] = [];
    let needed = 0;
    for (const t of ctx.targets) {
      findings.push(...await dumpToolFindings(t, ctx));
      needed += Math.ceil((await t.dialect.introspect.databaseSizeBytes()) * SPACE_FACTOR);
    }
    if (ctx.targets.length === 0) return findings;
    const dir = ctx.config.backupDir;
    const existing = nearestExistingDirectory(dir);
    if (!existing || !writable(existing)) {
      findings.push(finding(GATE, 'run', 'block', `backup directory ${dir} is not writable by this user`,
        'Pass --backup-dir (OM_MIGRATE_BACKUP_DIR) pointing at a writable directory on a volume that outlives the container.', { dir }));
      return findings;
    }
    const stats = statfsSync(existing);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const { formatBytes } = ctx.tools;
    const data = { dir, freeBytes: free, neededBytes: needed };
    findings.push(free < needed
      ? finding(GATE, 'run', 'block', `only ${formatBytes(free)} free in ${dir}; the dumps need about ${formatBytes(needed)}`,
        'Free space there, or point --backup-dir at a larger volume.', data)
      : finding(GATE, 'run', 'ok', `${dir}: ${formatBytes(free)} free, about ${formatBytes(needed)} needed`, undefined, data));
    return findings;
  },
};

/**
 * The tool the backup will run, found the same way runBackup finds it, then (where the dialect can) run for real
 * against the server, read-only: a block here costs nothing, the same failure at backup time costs a failed `up`.
 */
async function dumpToolFindings(t: ConnectedTarget, ctx: GateContext): Promise<Finding[]> {
  const tooling = t.dialect.dumpTool;
  const search = { pgBinDir: ctx.config.pgBinDir };
  let tool = tooling.locate(t.server, ctx.config.env, search);
  if (!tool.problem && tooling.probe) tool = await tooling.probe(t.dialect.spec, tool, t.server, ctx.config.env);
  const privileges = (await t.dialect.dumpPrivilegeProblems(t.server, { jobs: ctx.config.backupJobs }))
    .map((p) => finding(GATE, t.role, p.severity, p.summary, p.fix, { tool: tool.name, privileges: true }));
  if (tool.problem) return [finding(GATE, t.role, 'block', tool.problem, tool.fix, { tool: tool.name }), ...privileges];
  const found = [...privileges, tool.warning
    ? finding(GATE, t.role, 'warn', tool.warning, tool.fix, { tool: tool.name, path: tool.path, version: tool.version })
    : finding(GATE, t.role, 'ok', `${tool.name} found: ${tool.version}`, undefined, { tool: tool.name, path: tool.path, version: tool.version })];
  if (tooling.format === 'custom') {
    // The backup is verified by listing the archive: without a pg_restore that reads it there is no verified backup.
    const lister = tooling.locateRestore(t.server, ctx.config.env, search);
    found.push(lister.problem
      ? finding(GATE, t.role, 'block', lister.problem, lister.fix, { tool: lister.name })
      : finding(GATE, t.role, 'ok', `${lister.name} found: ${lister.version}`, undefined, { tool: lister.name, path: lister.path, version: lister.version }));
  }
  return found;
}

/** The directory itself when it exists, else the closest ancestor that does (where it would be created). */
function nearestExistingDirectory(path: string): string | undefined {
  let current = path;
  for (;;) {
    try {
      if (statSync(current).isDirectory()) return current;
      return undefined;
    } catch {
      const parent = dirname(current);
      if (parent === current) return undefined;
      current = parent;
    }
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
