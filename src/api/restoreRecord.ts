import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetRole } from '../config/ConnectionSpec.js';
import { syncPath } from '../backup/syncPath.js';
import { fileProblem } from '../process/pathTrust.js';

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
  /** running: the restore has not finished (a SIGKILL, or still at work); restored / failed: it ended and said so; resolved: `up --resolve-restore` settled a killed one. */
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
