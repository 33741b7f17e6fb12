import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OmMigrateError } from '../errors.js';

/**
 * A private directory for this process's short-lived secrets (a MySQL client option file): <tmp>/om-migrate-<uid>/<pid>-…,
 * mode 0700, owned by us. A run that was SIGKILLed cannot remove its own; every later run sweeps the directories of
 * processes that no longer exist, so a password never lingers on disk beyond the next run.
 */
export function privateRunDir(base = tmpdir()): string {
  const uid = process.getuid?.() ?? 0;
  const root = join(base, `om-migrate-${uid}`);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const stat = lstatSync(root);
  // Somebody else's directory (or a planted link) in a shared /tmp must never receive our secrets.
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new OmMigrateError('BACKUP_FAILED', `${root} is not a private directory of this user (mode ${(stat.mode & 0o777).toString(8)}, owner ${stat.uid})`,
      { hint: `Remove ${root} (another user may have planted it), or set TMPDIR to a private directory.` });
  }
  sweepDeadRunDirs(root);
  return mkdtempSync(join(root, `${process.pid}-`));
}

/** Removes the run directories of processes that are gone. */
export function sweepDeadRunDirs(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
