import { readdirSync, readFileSync } from 'node:fs';

/** One line of /proc/<pid>/stat, the fields a tree needs. */
interface ProcStat {
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, it names one process even after its pid is reused. */
  start: string;
  zombie: boolean;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session … starttime(22nd)": comm may hold spaces and parentheses, so read after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19], zombie: fields[0] === 'Z' };
}

function readAll(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.set(Number(entry), stat);
  }
  return all;
}

/**
 * Every process a supervised child started, however it tried to leave: the members of the supervisor's process group,
 * and every descendant by parent pid — remembered once seen, so that a worker whose shell died (reparented to init)
 * or that called setsid() (a group and session of its own) is still found, with its own children. A process is named
 * by pid and start time, so a reused pid is never taken for one of ours. What is never seen cannot be found: a worker
 * that forks and exits its parent between two looks; the supervisor looks often (pollMs) to keep that window small.
 */
export class ProcessTree {
  private readonly known = new Map<number, string>();

  constructor(private readonly root: number) {}

  /** Looks again; the live members (zombies are dead already, and cannot be signalled away). */
  refresh(): number[] {
    const all = readAll();
    for (const [pid, start] of this.known) {
      const now = all.get(pid);
      if (!now || now.start !== start || now.zombie) this.known.delete(pid);
    }
    const children = new Map<number, number[]>();
    const queue: number[] = [this.root, ...this.known.keys()];
    for (const [pid, stat] of all) {
      if (!children.has(stat.ppid)) children.set(stat.ppid, []);
      children.get(stat.ppid)!.push(pid);
      if (stat.pgrp === this.root && pid !== this.root) queue.push(pid);
    }
    while (queue.length > 0) {
      const pid = queue.pop()!;
      const stat = all.get(pid);
      if (pid !== this.root && pid > 1 && stat && !stat.zombie && !this.known.has(pid)) this.known.set(pid, stat.start);
      for (const child of children.get(pid) ?? []) if (!this.known.has(child)) queue.push(child);
    }
    return [...this.known.keys()];
  }

  /** Sends `signal` to every live member; the members it was sent to. */
  signal(signal: NodeJS.Signals, except: ReadonlySet<number> = new Set()): number[] {
    const sent: number[] = [];
    for (const pid of this.refresh()) {
      if (except.has(pid)) continue;
      try {
        process.kill(pid, signal);
        sent.push(pid);
      } catch {
        // gone since the look
      }
    }
    return sent;
  }
}
