import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dumpToolingFor } from '../dialects/dumpToolingFor.js';
import type { ServerInfo } from '../dialects/types.js';
import { backupFileOf, BackupManifest, isFileSet, readManifest } from './BackupManifest.js';
import { decompressor } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
import { listArchive } from './listArchive.js';
import { verifyFileSet } from './verifyFileSet.js';
import type { Environment } from '../process/childEnv.js';

/** 1 MB reads instead of the stream default of 64 KB: a sixteenth of the chunks through the hash and the pipe. */
const READ_CHUNK = 1024 * 1024;

export interface BackupVerification {
  ok: boolean;
  manifest: BackupManifest;
  file: string;
  sha256: string | undefined;
  /** Each reason the backup cannot be trusted; empty when ok. */
  problems: string[];
  /**
   * With `scan`: what the dump's text holds that a dump of one database never does (a client command, a USE), each
   * with its line; the restore refuses to start the client over any of it. Empty without `scan`.
   */
  unsafe: string[];
}

/**
 * Re-reads a backup in one streaming pass: its SHA-256 and size against the manifest, then that it is complete (the
 * completion line of a SQL dump, after decompressing; `pg_restore --list` of an archive).
 */
export async function verifyBackup(manifestPath: string, options: { env: Environment; scan?: boolean; pgBinDir?: string }): Promise<BackupVerification> {
  const env = options.env;
  const manifest = await readManifest(manifestPath);
  const file = backupFileOf(manifestPath, manifest);
  // A parallel backup (--jobs): a directory of files, each hashed in the manifest.
  if (isFileSet(manifest)) return verifyFileSet(manifest, file, env, { scan: options.scan, pgBinDir: options.pgBinDir });
  const problems: string[] = [];
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined) return { ok: false, manifest, file, sha256: undefined, problems: [`${file} does not exist`], unsafe: [] };
  if (size !== manifest.bytes) problems.push(`${file} is ${size} bytes, the manifest says ${manifest.bytes}`);

  const tooling = await dumpToolingFor(manifest.engine);
  const hashed = new DumpMeter({ hash: true, tail: manifest.compression === 'none' });
  const stages: NodeJS.ReadWriteStream[] = [hashed];
  let tailMeter = hashed;
  if (manifest.format === 'sql' && manifest.compression !== 'none') {
    tailMeter = new DumpMeter({ hash: false, tail: true });
    stages.push(decompressor(manifest.compression, env).stream, tailMeter);
  }
  // In the same pass: the text the client will read, as it will read it.
  const scanner = options.scan && manifest.format === 'sql' ? tooling.scanner?.() : undefined;
  try {
    await pipeline([createReadStream(file, { highWaterMark: READ_CHUNK }), ...stages, discard(scanner ? (chunk) => scanner.push(chunk) : undefined)]);
  } catch (error) {
    problems.push(`reading ${file} failed: ${(error as Error).message}`);
  }
  const sha256 = hashed.sha256();
  if (sha256 !== manifest.sha256) problems.push(`SHA-256 of ${file} is ${sha256}, the manifest says ${manifest.sha256}: the file was changed or damaged`);
  if (manifest.format === 'sql' && !tooling.dumpCompleted(tailMeter.tail())) problems.push(`${file} does not end with the dump's completion line`);
  if (manifest.format === 'custom' && problems.length === 0) {
    const restoreTool = tooling.locateRestore(serverOf(manifest), env, { pgBinDir: options.pgBinDir, archiveToolVersion: manifest.tool.version });
    if (restoreTool.problem) problems.push(`cannot list the archive: ${restoreTool.problem}`);
    else {
      const listed = await listArchive(tooling.listInvocation(restoreTool, file)!, env);
      if (!listed.ok) problems.push(`the archive does not list: ${listed.message}`);
    }
  }
  const unsafe = scanner && problems.length === 0 ? scanner.end() : [];
  return { ok: problems.length === 0, manifest, file, sha256, problems, unsafe };
}

/** Enough of the server's description to pick a tool that can read its dumps. */
export function serverOf(manifest: BackupManifest): ServerInfo {
  return { flavour: manifest.server.flavour, version: manifest.server.version, versionText: manifest.server.versionText,
    managed: undefined, floor: '0', belowFloor: false };
}

function discard(each?: (chunk: Buffer) => void): Writable {
  return new Writable({ write: (chunk: Buffer, _encoding, callback) => {
    each?.(chunk);
    callback();
  } });
}
