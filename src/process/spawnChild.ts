import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { ChildEnvironment } from './childEnv.js';
import { onCutShort } from './Interruption.js';
import { OutputTail } from './OutputTail.js';
import { NO_SECRETS, type Redactor } from './redact.js';

const SUPERVISOR = fileURLToPath(new URL('./supervisor.js', import.meta.url));
/** After SIGTERM, how long a child gets to stop before SIGKILL. */
export const DEFAULT_GRACE_MS = 10_000;

export interface SpawnRequest {
  /** The program and its arguments; never a shell string built from input. */
  argv: string[];
  /** The child's whole environment (childEnvironment): nothing is inherited implicitly, so a secret reaches only the child that needs it. */
  env: ChildEnvironment;
  cwd?: string;
  /** What the child reads: nothing, a pipe we write (restore's SQL), or an open file descriptor. */
  stdin?: 'ignore' | 'pipe' | number;
  /** 'lines': read, split, redacted, kept in the tail; 'pipe': a stream for the caller; a number: that descriptor (a dump file). */
  stdout?: 'ignore' | 'lines' | 'pipe' | number;
  stderr?: 'ignore' | 'lines';
  onLine?: (line: string) => void;
  redactor?: Redactor;
  /**
   * Aborting stops the child: SIGTERM to all it started, SIGKILL after graceMs; a further SIGINT/SIGTERM (when the signal
   * is an Interruption's) kills them at once.
   */
  signal?: AbortSignal;
  /** Stops the child the same way when it runs longer; the exit says timedOut. */
  timeoutMs?: number;
  graceMs?: number;
  /**
   * Follow the child's process tree while it runs (a migrator: a worker that calls setsid or outlives its shell is still
   * found and stopped). Without it the tree is read when stopping, which finds everything still attached to it.
   */
  followTree?: boolean;
}

export interface SpawnExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The child could not be started at all (missing program, not executable). */
  spawnError: string | undefined;
  timedOut: boolean;
  aborted: boolean;
  /** The last lines of what the child printed on the 'lines' streams, redacted and bounded. */
  tail: string;
}

export interface SpawnedChild {
  /** The supervisor's pid, which is also the process group of the child and of everything it starts. */
  pgid: number | undefined;
  stdin: Writable | null;
  stdout: Readable | null;
  exit: Promise<SpawnExit>;
  /** SIGTERM now, SIGKILL after the grace period, to everything the child started. Safe to call twice. */
  stop(): void;
}

/**
 * The one way om-migrate starts a child process (dump and restore tools, codecs, both migrators). Every child runs
 * under a supervisor (supervisor.ts) in a process group of its own, so that it and its own children die with
 * om-migrate even when om-migrate is SIGKILLed; output is redacted and bounded; abort and timeout escalate from SIGTERM
 * to SIGKILL; the environment is exactly the one given.
 */
export function spawnChild(request: SpawnRequest): SpawnedChild {
  const graceMs = request.graceMs ?? DEFAULT_GRACE_MS;
  const stdio: Array<'ignore' | 'pipe' | number> = [
    request.stdin ?? 'ignore',
    request.stdout === 'lines' ? 'pipe' : request.stdout ?? 'ignore',
    request.stderr === 'lines' ? 'pipe' : request.stderr ?? 'ignore',
    'pipe', // fd 3: the supervisor's lifeline, never written; it closes when om-migrate dies
  ];
  const child: ChildProcess = spawn(process.execPath, [SUPERVISOR, String(graceMs), request.cwd ?? '-', request.followTree ? 'follow' : '-', '--', ...request.argv], {
    env: request.env, stdio, detached: true,
  });
  (child.stdio[3] as Writable).on('error', () => undefined);
  const tail = new OutputTail(request.redactor ?? NO_SECRETS, request.onLine);
  for (const [stream, name] of [[child.stdout, 'out'], [child.stderr, 'err']] as const) {
    if (!stream || (name === 'out' && request.stdout !== 'lines') || (name === 'err' && request.stderr !== 'lines')) continue;
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => tail.push(name, text));
  }

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  // The supervisor stops the child's whole tree (processTree.ts) and exits once none of it is left; were the supervisor
  // itself stuck, its group is killed outright some time after its own grace period would have ended.
  const fallback = (afterMs: number) => {
    clearTimeout(killTimer);
    killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), afterMs);
  };
  const stop = () => {
    if (!running() || killTimer) return;
    child.kill('SIGTERM');
    fallback(graceMs + SUPERVISOR_SLACK_MS);
  };
  const killNow = () => {
    if (!running()) return;
    child.kill('SIGUSR2');
    fallback(SUPERVISOR_SLACK_MS);
  };
  const onAbort = () => {
    aborted = true;
    stop();
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) onAbort();
  const stopListening = onCutShort(request.signal, () => {
    aborted = true;
    killNow();
  });
  const timeout = request.timeoutMs !== undefined ? setTimeout(() => {
    timedOut = true;
    stop();
  }, request.timeoutMs) : undefined;

  const exit = new Promise<SpawnExit>((resolve) => {
    let spawnError: string | undefined;
    child.once('error', (error) => {
      spawnError = error.message;
      if (child.pid === undefined) finish(null, null);
    });
    child.once('close', (code, signal) => {
      // The supervisor leaves nothing behind; should it have died first (killed from outside), nothing of its group
      // outlives it either.
      void killGroupUntilGone(child.pid!).then(() => finish(code, signal));
    });
    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      stopListening();
      request.signal?.removeEventListener('abort', onAbort);
      tail.flush();
      // The supervisor answers 127 when the program itself cannot be started, and says why on stderr.
      if (code === 127 && /^om-migrate: cannot start /m.test(tail.text())) spawnError ??= /cannot start (.*)$/m.exec(tail.text())?.[1];
      resolve({ code, signal, spawnError, timedOut, aborted, tail: tail.text() });
    }
  });
  return { pgid: child.pid, stdin: child.stdin, stdout: request.stdout === 'pipe' ? child.stdout : null, exit, stop };
}

/** How long past its own deadline the supervisor gets before its group is killed around it. */
const SUPERVISOR_SLACK_MS = 5_000;

async function killGroupUntilGone(pgid: number): Promise<void> {
  for (let i = 0; groupAlive(pgid) && i < 100; i += 1) {
    signalGroup(pgid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export function succeeded(exit: SpawnExit): boolean {
  return exit.spawnError === undefined && exit.code === 0 && exit.signal === null;
}

/** "exited with status 2: mariadb-dump: Got error: 1045: …": the tool's own last words, already redacted. */
export function describeExit(name: string, exit: SpawnExit, lines = 3): string {
  const said = exit.tail.split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | ');
  const how = exit.spawnError !== undefined ? `could not be started (${exit.spawnError})`
    : exit.timedOut ? 'ran past its time limit and was stopped'
      : exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  return `${name} ${how}${said && exit.spawnError === undefined ? `: ${said}` : ''}`;
}

/** A conventional shell status: the code, or 128 + the signal's number. */
export function exitStatus(exit: SpawnExit): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? constants.signals[exit.signal] : 1);
}

/** Whether a process group still has a live member (a migrator left by a killed run, say). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
