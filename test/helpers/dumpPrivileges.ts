import assert from 'node:assert/strict';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { runBackup } from '../../src/backup/index.js';
import { connect } from '../../src/dialects/connect.js';
import type { DumpPrivilegeProblem } from '../../src/dialects/types.js';
import type { ScratchDatabase } from './servers.js';

/** What preflight's backup-privilege check reports for `spec`, on its own connection. */
export async function dumpPrivilegeProblemsOf(spec: ConnectionSpec): Promise<DumpPrivilegeProblem[]> {
  const d = await connect(spec);
  try {
    return await d.dumpPrivilegeProblems(await d.serverInfo());
  } finally {
    await d.close();
  }
}

/** A verified, uncompressed backup of `spec`'s database into `dir`, through the library (the real dump tool). */
export async function backupAs(spec: ConnectionSpec, dir: string): ReturnType<typeof runBackup> {
  const d = await connect(spec);
  try {
    return await runBackup({ role: 'openmetadata', dialect: d }, { backupDir: dir, backupCompress: 'none', env: process.env });
  } finally {
    await d.close();
  }
}

/** Runs, as the server's superuser, the GRANT statements of a finding's fix (its other sentences are advice). */
export async function runPrintedGrants(db: ScratchDatabase, fix: string): Promise<void> {
  const grants = fix.split(/;\s*/).map((s) => s.trim()).filter((s) => /^GRANT /.test(s));
  assert.ok(grants.length > 0, `a GRANT in: ${fix}`);
  for (const g of grants) await db.root.knex.raw(g);
}
