/**
 * Runs one child so that it dies with om-migrate, even when om-migrate is SIGKILLed: Node cannot ask the kernel for a
 * parent-death signal, so this small process sits between the two. om-migrate starts it as the leader of a new process
 * group with a pipe on fd 3 (the lifeline) and never writes to it; when om-migrate dies, however it dies, the kernel
 * closes that pipe and this process sees end-of-file, sends SIGTERM to the whole group (the child and whatever the
 * child started: a shell script's java, say), then SIGKILL after the grace period.
 *
 *   node supervisor.js <graceMs> <cwd|-> -- program args…
 *
 * fds 0–2 go to the child unchanged, and nothing else does. The exit status is the child's; 127 with a message when it cannot be started; a child ended by
 * a signal ends this process by the same signal.
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';

const [graceText, cwdArg, separator, program, ...args] = process.argv.slice(2);
if (separator !== '--' || !program) {
  process.stderr.write('om-migrate supervisor: usage: supervisor.js <graceMs> <cwd|-> -- program args…\n');
  process.exit(2);
}
const graceMs = Number(graceText);
const child = spawn(program, args, {
  stdio: ['inherit', 'inherit', 'inherit'],
  cwd: cwdArg === '-' ? undefined : cwdArg,
});

let killing = false;
let exiting = false;
function killGroup(): void {
  if (killing || exiting) return;
  killing = true;
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {
    // the group is gone already
  }
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, graceMs).unref();
}

// om-migrate signals the whole group: the child has the signal already; this process waits for it to end.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

// om-migrate's end of fd 3 is a socket (that is what Node's 'pipe' stdio is); it is never written, only closed.
const lifeline = new Socket({ fd: 3, readable: true, writable: false });
lifeline.on('data', () => undefined);
lifeline.on('close', killGroup);
lifeline.on('error', killGroup);

child.once('error', (error) => {
  process.stderr.write(`om-migrate: cannot start ${program}: ${error.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  exiting = true;
  lifeline.destroy();
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
