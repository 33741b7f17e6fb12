import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * What a process group number, read from a table the application user can write (the lock holder's row), names on
 * this host. Only a group whose leader is om-migrate's own supervisor (supervisor.ts), running as this user, is a
 * migrator of an om-migrate run: anything else — 1, 0, a negative number (kill(-1) reaches every process), another
 * program's group, another user's — is never reported as one, and never offered to `kill -TERM -<pgid>`.
 */
export type GroupVerdict =
  | { kind: 'om-migrate' }
  /** No process is in it. */
  | { kind: 'gone' }
  /** It is not om-migrate's migrator group; why, for a message. */
  | { kind: 'other'; why: string };

const SUPERVISOR = 'supervisor.js';

export function migratorGroup(pgid: number): GroupVerdict {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return { kind: 'other', why: `${pgid} is no process group a migrator can have` };
  if (pgid === process.pid) return { kind: 'other', why: `${pgid} is this very process` };
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pgid}/stat`, 'utf8');
  } catch {
    return memberAlive(pgid) ? { kind: 'other', why: `the leader of process group ${pgid} is gone, so it cannot be told to be om-migrate's` }
      : { kind: 'gone' };
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (Number(fields[2]) !== pgid) return { kind: 'other', why: `process ${pgid} leads no process group` };
  const uid = process.getuid?.();
  const owner = statSync(`/proc/${pgid}`).uid;
  if (uid !== undefined && owner !== uid) return { kind: 'other', why: `process group ${pgid} runs as uid ${owner}, not as this user` };
  const argv = readFileSync(`/proc/${pgid}/cmdline`, 'utf8').split('\0');
  if (!argv.slice(0, 3).some((a) => basename(a) === SUPERVISOR)) {
    return { kind: 'other', why: `process group ${pgid} is led by ${basename(argv[0] ?? '?')}, not by om-migrate's supervisor` };
  }
  return { kind: 'om-migrate' };
}

function memberAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
