/**
 * Runs one child so that nothing it starts outlives its run, even when om-migrate is SIGKILLed: Node cannot ask the
 * kernel for a parent-death signal, so this small process sits between the two. om-migrate starts it as the leader of
 * a new process group with a pipe on fd 3 (the lifeline) and never writes to it; when om-migrate dies, however it dies,
 * the kernel closes that pipe and this process sees end-of-file.
 *
 * It keeps track of the child's whole tree (processTree.ts: its process group and every descendant, also one that
 * called setsid), because the child is often a shell that does not exec its worker (openmetadata-ops.sh runs java as a
 * child) and a worker may ignore SIGTERM or outlive the shell. Stopping means: SIGTERM to every member, SIGKILL to every
 * member after the grace period, again until none is left. It stops on SIGTERM/SIGINT/SIGHUP (om-migrate's stop), on
 * the lifeline's end, and when the child exits leaving members behind; SIGUSR2 skips the grace period (a second Ctrl-C).
 * It exits only once no member is left, so om-migrate, which waits for it, never reports a step over while a worker of
 * it still runs.
 *
 *   node supervisor.js <graceMs> <cwd|-> <follow|-> -- program args…
 *
 * `follow` looks at the tree every 200 ms while the child runs (a migrator, whose workers may slip away); otherwise the
 * tree is looked at only when stopping (a dump tool, dozens of them with --jobs, starts nothing that leaves).
 *
 * fds 0–2 go to the child unchanged, and nothing else does. The exit status is the child's; 127 with a message when it
 * cannot be started; a child ended by a signal ends this process by the same signal.
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { ProcessTree } from './processTree.js';

/** How often the tree is looked at: often enough that a worker is seen before it can slip away; faster while stopping. */
const POLL_MS = 200;
const STOPPING_POLL_MS = 50;
/** Not following: only a cheap timer while the child runs. */
const IDLE_MS = 1000;

const [graceText, cwdArg, followArg, separator, program, ...args] = process.argv.slice(2);
if (separator !== '--' || !program) {
  process.stderr.write('om-migrate supervisor: usage: supervisor.js <graceMs> <cwd|-> <follow|-> -- program args…\n');
  process.exit(2);
}
const graceMs = Number(graceText);
const follow = followArg === 'follow';
const child = spawn(program, args, {
  stdio: ['inherit', 'inherit', 'inherit'],
  cwd: cwdArg === '-' ? undefined : cwdArg,
});

const tree = new ProcessTree(process.pid);
let stopping: 'no' | 'term' | 'kill' = 'no';
const termed = new Set<number>();
let childExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

/** SIGTERM to every member (and to each one that appears later), SIGKILL to all after the grace period. */
function stop(): void {
  if (stopping !== 'no') return;
  stopping = 'term';
  for (const pid of tree.signal('SIGTERM')) termed.add(pid);
  setTimeout(killNow, graceMs);
}

function killNow(): void {
  stopping = 'kill';
  tree.signal('SIGKILL');
}

let watch = setTimeout(function look() {
  if (stopping === 'term') for (const pid of tree.signal('SIGTERM', termed)) termed.add(pid);
  else if (stopping === 'kill') tree.signal('SIGKILL');
  if (stopping === 'no' && !childExit && !follow) {
    watch = setTimeout(look, IDLE_MS);
    return;
  }
  const left = tree.refresh().length;
  if (childExit && left === 0) finish(childExit);
  else watch = setTimeout(look, stopping === 'no' ? POLL_MS : STOPPING_POLL_MS);
}, follow ? POLL_MS : IDLE_MS);

function finish(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
  clearTimeout(watch);
  lifeline.destroy();
  if (exit.signal) {
    process.removeAllListeners(exit.signal);
    process.kill(process.pid, exit.signal);
    return;
  }
  process.exit(exit.code ?? 1);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
process.on('SIGUSR2', killNow);

// om-migrate's end of fd 3 is a socket (that is what Node's 'pipe' stdio is); it is never written, only closed.
const lifeline = new Socket({ fd: 3, readable: true, writable: false });
lifeline.on('data', () => undefined);
lifeline.on('close', stop);
lifeline.on('error', stop);

child.once('error', (error) => {
  process.stderr.write(`om-migrate: cannot start ${program}: ${error.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  childExit = { code, signal };
  // Whatever the child left behind is a worker of its step: it does not run on past it.
  if (tree.refresh().length > 0) stop();
  else finish(childExit);
});
