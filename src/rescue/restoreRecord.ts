import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetRole } from '../config/ConnectionSpec.js';
import { syncPath } from '../backup/syncPath.js';
import { fileProblem } from '../process/pathTrust.js';
import type { Dialect } from '../dialects/types.js';

/**
 * Where a restore-on-failure is, per database, written (and fsynced) before each phase begins: after a SIGKILL the
 * next `status` and `up` read it, look at the server, and say which state each database is in. It lives beside the
 * backups it restores from (the directory must be the operator's own: pathTrust), never in the databases it swaps.
 */
export type RestorePhase =
  /** The scratch copy is being made and loaded from the backup: the live database is the failed state, untouched. */
  | 'restoring'
  /** The scratch copy is being checked against the state before up: the live database is still the failed state. */
  | 'verifying'
  /** The one swap statement was sent: the live database is either still the failed state or already the restored one. */
  | 'swapping'
  /** The restored copy is the live database; the failed state is in `kept`. */
  | 'swapped'
  /** The restore gave up before the swap: the live database is the failed state, untouched; the scratch copy was dropped. */
  | 'abandoned';

export interface RestoreRecordDatabase {
  role: TargetRole;
  /** "mysql 127.0.0.1:3306" */
  server: string;
  database: string;
  scratch: string;
  kept: string;
  manifest: string;
  phase: RestorePhase;
  /** Why it was abandoned, when it was. */
  problem?: string;
}

export interface RestoreRecord {
  runId: string;
  startedAt: string;
  updatedAt: string;
  /** running: the restore has not finished (a SIGKILL, or still at work); restored / failed: it ended and said so; resolved: `om-migrate resolve-restore` settled a killed one. */
  outcome: 'running' | 'restored' | 'failed' | 'resolved';
  databases: RestoreRecordDatabase[];
}

const PREFIX = 'restore-on-failure-';

export function restoreRecordPath(dir: string, runId: string): string {
  return join(dir, `${PREFIX}${runId}.json`);
}

/** Written whole to a temporary file, fsynced, renamed over the record, the directory fsynced: never half a record. */
export async function writeRestoreRecord(dir: string, record: RestoreRecord): Promise<void> {
  const path = restoreRecordPath(dir, record.runId);
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...record, updatedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  await syncPath(temporary);
  await rename(temporary, path);
  await syncPath(dir);
}

/** Every record of a restore that did not end (outcome running), oldest first; files another user could have written are ignored. */
export async function unfinishedRestores(dir: string): Promise<Array<{ path: string; record: RestoreRecord }>> {
  const found: Array<{ path: string; record: RestoreRecord }> = [];
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (!name.startsWith(PREFIX) || !name.endsWith('.json')) continue;
    const path = join(dir, name);
    if (fileProblem(path)) continue;
    const record = await readFile(path, 'utf8').then((t) => JSON.parse(t) as RestoreRecord).catch(() => undefined);
    if (record && record.outcome === 'running' && Array.isArray(record.databases)) found.push({ path, record });
  }
  return found.sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
}

/** What a database of a cut-off restore is now, read from its server (the record says only what was begun). */
export interface RestoreState {
  role: TargetRole;
  database: string;
  phase: RestorePhase;
  /** restored: the swap happened (the failed state is in `kept`); failed-state: the live database is the failed run's, untouched. */
  state: 'restored' | 'failed-state';
  kept: string | null;
  /** A scratch copy left on the server (dropped by resolve-restore). */
  scratchLeft: string | null;
  text: string;
}

/** Looks at the server through a connection allowed to see every database (the admin's). */
export async function inspectRestore(entry: RestoreRecordDatabase, admin: Pick<Dialect, 'swap'>): Promise<RestoreState> {
  const swapped = await admin.swap.holdsContent(entry.kept);
  const scratchLeft = (await admin.swap.exists(entry.scratch)) ? entry.scratch : null;
  const text = swapped
    ? `${entry.database} is restored from ${entry.manifest}; the failed state is kept in ${entry.kept}`
    : `${entry.database} is as the failed run left it (the restore stopped while ${entry.phase}); its backup is ${entry.manifest}`
      + (scratchLeft ? `; an unfinished copy is left in ${scratchLeft}` : '');
  return { role: entry.role, database: entry.database, phase: entry.phase, state: swapped ? 'restored' : 'failed-state',
    kept: swapped ? entry.kept : null, scratchLeft, text };
}

/** The unfinished restores that concern these databases (same server and database name). */
export async function unfinishedRestoresOf(dir: string, databases: Array<{ server: string; database: string }>)
  : Promise<Array<{ path: string; record: RestoreRecord }>> {
  return (await unfinishedRestores(dir)).filter(({ record }) =>
    record.databases.some((d) => databases.some((x) => x.server === d.server && x.database === d.database)));
}

/** "mysql 127.0.0.1:3306": the server a record's database is on, as records compare it. */
export function serverKeyOf(spec: { engine: string; host: string; port: number }): string {
  return `${spec.engine} ${spec.host}:${spec.port}`;
}
