import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConnectionSpec, describeSpec } from '../config/ConnectionSpec.js';
import type { DumpToolCheck, DumpTooling } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { Redactor } from '../process/redact.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import type { BackupFileEntry, BackupManifest } from './BackupManifest.js';
import { decompressor } from './compression.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';

const READ_CHUNK = 1024 * 1024;
const PROGRESS_EVERY_MS = 250;

export interface SqlFilesRestore {
  manifest: BackupManifest & { files: BackupFileEntry[] };
  dir: string;
  spec: ConnectionSpec;
  dumpTool: DumpTooling;
  tool: DumpToolCheck;
  env: Environment;
  jobs: number;
  replace: boolean;
  onLoading?: (bytesRead: number) => void;
  /** Aborting stops every client. */
  signal?: AbortSignal;
}

/**
 * Restores a parallel MySQL-family backup ('sql-files'): the table files `jobs` at a time, largest first, each by its own
 * client exactly as a single-file dump is restored (the file is the client's standard input, or passes through the
 * decompressor); then the views, routines and events. Each table file turns foreign-key checks off for its own
 * session, as every dump does, so the files load in any order. The first client to fail stops the others.
 */
export async function restoreSqlFiles(r: SqlFilesRestore): Promise<void> {
  const parallel = r.manifest.files.filter((f) => f.load !== 'last').sort((a, b) => b.bytes - a.bytes);
  const last = r.manifest.files.filter((f) => f.load === 'last');
  const internal = new AbortController();
  const signal = r.signal ? AbortSignal.any([r.signal, internal.signal]) : internal.signal;
  const done = new Map<string, number>();
  const reading = new Map<string, () => Promise<number>>();
  const polling = r.onLoading && setInterval(() => {
    Promise.all([...reading.values()].map((at) => at().catch(() => 0)))
      .then((now) => r.onLoading!([...done.values(), ...now].reduce((a, b) => a + b, 0)), () => undefined);
  }, PROGRESS_EVERY_MS);
  let firstError: unknown;
  const restoreFile = async (entry: BackupFileEntry) => {
    try {
      await restoreOne(r, entry, signal, reading);
      done.set(entry.name, entry.bytes);
    } catch (error) {
      if (firstError === undefined && !signal.aborted) firstError = error;
      internal.abort();
      throw error;
    }
  };
  try {
    const queue = [...parallel];
    const workers = Array.from({ length: Math.max(1, Math.min(r.jobs, queue.length)) }, async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) await restoreFile(entry);
    });
    await Promise.allSettled(workers);
    if (firstError === undefined) {
      for (const entry of last) await restoreFile(entry).catch(() => undefined);
    }
  } finally {
    if (polling) clearInterval(polling);
  }
  if (r.signal?.aborted) {
    throw new OmMigrateError('INTERRUPTED', `restore into ${describeSpec(r.spec)} interrupted: it may be partly restored (one client per file, each committing as it goes); restore again with --force`,
      { hint: 'Run the restore again with --force when you are ready.' });
  }
  if (firstError !== undefined) throw firstError;
}

async function restoreOne(r: SqlFilesRestore, entry: BackupFileEntry, signal: AbortSignal, reading: Map<string, () => Promise<number>>): Promise<void> {
  const path = join(r.dir, entry.name);
  const { invocation, stdin } = r.dumpTool.restoreInvocation(r.spec, r.tool, path, { replace: r.replace, jobs: 1 });
  const direct = stdin && r.manifest.compression === 'none' ? await open(path, 'r') : undefined;
  try {
    const running = spawnChild({
      argv: invocation.argv, env: childEnvironment(r.env, 'tool-basics', invocation.env), stdin: direct ? direct.fd : stdin ? 'pipe' : 'ignore', stderr: 'lines',
      redactor: new Redactor([r.spec.password]), signal,
    });
    let feeding: Promise<void> = Promise.resolve();
    if (direct) {
      // The client reads through a duplicate of our descriptor, so the offset it has reached is ours to read.
      reading.set(entry.name, () => offset(direct.fd));
    } else if (stdin) {
      let read = 0;
      const source = createReadStream(path, { highWaterMark: READ_CHUNK });
      source.on('data', (chunk) => { read += chunk.length; });
      reading.set(entry.name, () => Promise.resolve(read));
      feeding = pipeline([source, decompressor(r.manifest.compression as Exclude<typeof r.manifest.compression, 'none'>, r.env).stream, running.stdin!]);
    }
    const [fed, exited] = await Promise.allSettled([feeding, running.exit]);
    const exit = exited.status === 'fulfilled' ? exited.value : undefined;
    if (!exit || !succeeded(exit)) {
      throw new OmMigrateError('RESTORE_FAILED',
        `restore of ${entry.name} into ${describeSpec(r.spec)} failed: ${exit ? describeExit(r.tool.name, exit) : `${r.tool.name} failed`}`,
        { hint: `The backup was restored by ${r.jobs} client(s) at once, file by file: the database may be partly restored. Fix what the client reports and run restore again with --force.` });
    }
    if (fed.status === 'rejected') {
      throw new OmMigrateError('RESTORE_FAILED', `reading ${path} failed during the restore: ${(fed.reason as Error).message}`,
        { hint: 'The database may be partly restored; check the file and run restore again with --force.' });
    }
  } finally {
    reading.delete(entry.name);
    invocation.dispose();
    await direct?.close();
  }
}

/** A descriptor's file offset, from Linux's /proc: progress only. */
async function offset(fd: number): Promise<number> {
  const m = /^pos:\s*(\d+)/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
