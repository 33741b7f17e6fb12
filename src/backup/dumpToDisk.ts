import { statfs } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { DumpFormat } from '../dialects/types.js';
import type { Redactor } from '../process/redact.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import type { ToolInvocation } from '../process/ToolInvocation.js';
import { OmMigrateError } from '../errors.js';
import { failed } from './backupFailed.js';
import type { Compression } from './backupFileName.js';
import { CodecStage, compressor } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
import { hashFile, HashedFile } from './hashFile.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';

const PROGRESS_EVERY_MS = 250;
const FLUSH_EVERY = 64 * 1024 * 1024;

export interface DumpContext {
  file: string;
  toolName: string;
  /** Hides the database password in whatever the tool says. */
  redactor: Redactor;
  dir: string;
  env: Environment;
  signal: AbortSignal | undefined;
  database: string;
  /** Each line the tool prints (redacted), as it comes: a parallel dump learns from them when a session has its snapshot. */
  onLine?: (line: string) => void;
}

export interface Dumped {
  /** Size of the file, and its SHA-256. */
  bytes: number;
  sha256: string;
  /** Size of the dump before compression. */
  dumpBytes: number;
  /** The last bytes of the (uncompressed) dump. */
  tail: string;
}

/**
 * Uncompressed: the dump tool writes straight into the 0600 file (its standard output is our descriptor), exactly as
 * `tool > file` would, so Node neither copies nor buffers the dump. The SHA-256 is computed from the file on disk by
 * sequential reads of the page cache the tool just filled: alongside the tool while it writes, for a SQL dump (written
 * strictly in order), or once it has finished, for a custom-format archive (pg_dump seeks back into a seekable output
 * to fill in its table of contents, which also gives pg_restore the offsets it needs for a selective or parallel
 * restore). Either way the hash is of the bytes that are in the file, not of bytes that passed through a pipe.
 */
export async function dumpToFile(invocation: ToolInvocation, handle: FileHandle, format: DumpFormat, context: DumpContext,
  dumpStarted: (pid: number | undefined) => void, report: ((dumped: number, written: number) => void) | undefined): Promise<Dumped> {
  const running = spawnChild({
    argv: invocation.argv, env: childEnvironment(context.env, 'tool-basics', invocation.env), stdout: handle.fd, stderr: 'lines',
    redactor: context.redactor, signal: context.signal, onLine: context.onLine,
  });
  dumpStarted(running.pgid);
  const stop = running.stop;
  const onBytes = report ? (bytes: number) => report(bytes, bytes) : undefined;
  let following: Promise<HashedFile> | undefined;
  const flush = flushBehind(handle);
  if (format === 'sql') {
    following = hashFile(handle, { follow: running.exit, onBytes: (bytes) => { onBytes?.(bytes); flush(bytes); } });
    // A read error: stop the tool rather than let it fill the disk for nothing.
    following.catch(stop);
  }
  // pg_dump's archive is hashed once it is finished, but it can go to disk while pg_dump writes it (a flush never
  // conflicts with pg_dump's later rewrite of its table of contents: the closing fsync writes that again): its size is
  // polled for the flushes, and for someone watching.
  const progress = following ? undefined
    : setInterval(() => { handle.stat().then((s) => { report?.(s.size, s.size); flush(s.size); }, () => undefined); }, PROGRESS_EVERY_MS);
  const exit = await running.exit;
  if (progress) clearInterval(progress);
  const [hashed] = await Promise.allSettled([following ?? Promise.resolve(undefined)]);
  if (context.signal?.aborted) {
    throw stopped(context);
  }
  if (!succeeded(exit)) {
    const full = await diskFull(context.dir, exit.tail);
    throw failed(`${describeExit(context.toolName, exit)}${full ? ` (ENOSPC: no space left on device in ${context.dir})` : ''}`,
      full ? 'Free space where --backup-dir points, or point it at a larger disk.' : `Fix what ${context.toolName} reports above; nothing in ${context.database} was changed.`);
  }
  if (hashed.status === 'rejected') {
    throw failed(`reading ${context.file} back failed: ${(hashed.reason as Error).message}`, 'Check the disk and the backup directory.', hashed.reason);
  }
  const flushError = await flush.settled();
  if (flushError) throw failed(`writing ${context.file} to disk failed: ${flushError.message}`, 'Check the disk and the backup directory.', flushError);
  const result = hashed.value ?? await hashFile(handle, { onBytes });
  const size = (await handle.stat()).size;
  if (result.bytes !== size) {
    throw failed(`${context.file} changed while it was being hashed (${result.bytes} bytes hashed, ${size} on disk)`, 'Make sure nothing else writes into --backup-dir.');
  }
  return { bytes: size, sha256: result.sha256, dumpBytes: size, tail: format === 'sql' ? result.tail : '' };
}

/** Compressed (MySQL family only): the dump passes through Node's zlib or a zstd process on its way to the file. */
export async function dumpThroughCodec(invocation: ToolInvocation, handle: FileHandle, compression: Exclude<Compression, 'none'>, context: DumpContext,
  dumpStarted: (pid: number | undefined) => void, report: ((dumped: number, written: number) => void) | undefined): Promise<Dumped> {
  const running = spawnChild({
    argv: invocation.argv, env: childEnvironment(context.env, 'tool-basics', invocation.env), stdout: 'pipe', stderr: 'lines',
    redactor: context.redactor, signal: context.signal, onLine: context.onLine,
  });
  dumpStarted(running.pgid);
  const codec: CodecStage = compressor(compression, context.env);
  const dumped = new DumpMeter({ hash: false, tail: true, onChunk: report && (() => report(dumped.bytes, written.bytes)) });
  const written = new DumpMeter({ hash: true, tail: false });
  // A bigger write buffer than the default 16 KB: fewer, larger writes. The stream closes the handle when it ends.
  const sink = handle.createWriteStream({ highWaterMark: 1024 * 1024 } as Parameters<FileHandle['createWriteStream']>[0]);
  const piping = pipeline([running.stdout!, dumped, codec.stream, written, sink], { signal: context.signal }).catch((error: unknown) => {
    // We stop reading: make sure the tool does not wait forever on a full pipe.
    running.stop();
    codec.abort();
    throw error;
  });
  const [piped, exited, coded] = await Promise.allSettled([piping, running.exit, codec.done]);
  if (context.signal?.aborted) {
    throw stopped(context);
  }
  if (piped.status === 'rejected') {
    const error = piped.reason as NodeJS.ErrnoException;
    const toolSaid = exited.status === 'fulfilled' && !succeeded(exited.value) && exited.value.signal !== 'SIGTERM'
      ? `; ${describeExit(context.toolName, exited.value)}` : '';
    throw failed(`writing ${context.file} failed: ${error.message}${toolSaid}`,
      error.code === 'ENOSPC' ? 'Free space where --backup-dir points, or point it at a larger disk.' : 'Check the disk and the backup directory.', error);
  }
  const exit = exited.status === 'fulfilled' ? exited.value : undefined;
  if (!exit || !succeeded(exit)) {
    throw failed(`${exit ? describeExit(context.toolName, exit) : `${context.toolName} failed`}`,
      `Fix what ${context.toolName} reports above; nothing in ${context.database} was changed.`);
  }
  if (coded.status === 'rejected') throw failed(`compressing the dump failed: ${(coded.reason as Error).message}`, 'Use --compress none or gzip.');
  return { bytes: written.bytes, sha256: written.sha256(), dumpBytes: dumped.bytes, tail: dumped.tail() };
}

/** The tool's own words for a full disk ("errno 28", "No space left on device"), or the filesystem itself says so. */
async function diskFull(dir: string, said: string): Promise<boolean> {
  if (/errno:? 28\b|no space left/i.test(said)) return true;
  const fs = await statfs(dir).catch(() => undefined);
  return fs !== undefined && fs.bavail * fs.bsize < 64 * 1024;
}

interface FlushBehind {
  (bytes: number): void;
  /** Starts no more flushes, waits for the one in flight; the first flush error, if any (it must fail the backup). */
  settled(): Promise<Error | undefined>;
}

/**
 * Writes the dump back to disk while it is being made, FLUSH_EVERY bytes at a time and one flush at a time, so that
 * the fsync that makes the file durable (runBackup's, before its rename and manifest) finds little left to write:
 * measured at 1 GiB on this machine, that fsync took 1.0–1.7 s without it and 30–40 ms with it, for no measurable
 * CPU (docs/performance.md). A flush error is kept and fails the backup: Linux reports a writeback error once per open
 * file, so the closing fsync on the same descriptor would not see it again.
 */
function flushBehind(handle: FileHandle): FlushBehind {
  let flushedAt = 0;
  let inFlight: Promise<void> | undefined;
  let error: Error | undefined;
  let stopped = false;
  const flush = ((bytes: number) => {
    if (stopped || inFlight || bytes - flushedAt < FLUSH_EVERY) return;
    flushedAt = bytes;
    inFlight = handle.datasync().catch((e: unknown) => { error ??= e as Error; }).finally(() => { inFlight = undefined; });
  }) as FlushBehind;
  flush.settled = async () => {
    stopped = true;
    await inFlight;
    return error;
  };
  return flush;
}

/**
 * Why the dump was stopped, in the stop's own terms: SIGINT/SIGTERM is INTERRUPTED (exit 130), a lost run lock is
 * LOCK_LOST (exit 12): the operator must learn that another run may have started, not that someone pressed Ctrl-C.
 */
function stopped(context: DumpContext): OmMigrateError {
  const reason: unknown = context.signal?.reason;
  if (reason instanceof OmMigrateError && reason.code !== 'INTERRUPTED') {
    return new OmMigrateError(reason.code, `backup of ${context.database} stopped, ${reason.message}; the partial file was removed`,
      { hint: reason.hint, details: reason.details, cause: reason });
  }
  return new OmMigrateError('INTERRUPTED', `backup of ${context.database} interrupted; the partial file was removed`);
}
