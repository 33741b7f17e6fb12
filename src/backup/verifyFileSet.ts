import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dumpToolingFor } from '../dialects/dumpToolingFor.js';
import { BackupFileEntry, BackupManifest, fileSetDigest } from './BackupManifest.js';
import { decompressor } from './compression.js';
import { DumpMeter } from './DumpMeter.js';
import { listArchive } from './listArchive.js';
import type { BackupVerification } from './verifyBackup.js';
import { serverOf } from './verifyBackup.js';
import type { Environment } from '../process/childEnv.js';

/** 1 MB reads, as verifyBackup reads a single-file backup. */
const READ_CHUNK = 1024 * 1024;

/**
 * A directory backup (manifest version 2) checked as a whole: the directory holds exactly the files the manifest lists
 * (a file added there could be restored with the rest), each a plain file of the listed size and SHA-256, the listing
 * matches the manifest's own digest, and the dump is complete (every SQL file ends with its completion line; pg_restore
 * --list reads pg_dump's directory).
 */
export async function verifyFileSet(manifest: BackupManifest & { files: BackupFileEntry[] }, dir: string,
  env: Environment, options: { scan?: boolean; pgBinDir?: string } = {}): Promise<BackupVerification> {
  const problems: string[] = [];
  const unsafe: string[] = [];
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    return { ok: false, manifest, file: dir, sha256: undefined, problems: [stat ? `${dir} is not a directory` : `${dir} does not exist`], unsafe };
  }
  const listed = new Set(manifest.files.map((f) => f.name));
  const extra = (await readdir(dir)).filter((name) => !listed.has(name));
  if (extra.length > 0) problems.push(`${dir} holds ${extra.length} file(s) its manifest does not list: ${extra.slice(0, 5).join(', ')}`);
  if (fileSetDigest(manifest.files) !== manifest.sha256) problems.push('the manifest\'s listing does not match its own SHA-256: the manifest was changed');
  if (manifest.files.reduce((sum, f) => sum + f.bytes, 0) !== manifest.bytes) problems.push('the manifest\'s file sizes do not add up to its size: the manifest was changed');

  const tooling = await dumpToolingFor(manifest.engine);
  const found: Array<Pick<BackupFileEntry, 'name' | 'bytes' | 'sha256'>> = [];
  for (const entry of manifest.files) {
    const path = join(dir, entry.name);
    const info = await lstat(path).catch(() => undefined);
    if (!info) {
      problems.push(`${path} does not exist`);
      continue;
    }
    if (!info.isFile()) {
      problems.push(`${path} is not a plain file`);
      continue;
    }
    if (info.size !== entry.bytes) problems.push(`${path} is ${info.size} bytes, the manifest says ${entry.bytes}`);
    const sqlText = manifest.format === 'sql-files';
    const hashed = new DumpMeter({ hash: true, tail: sqlText && manifest.compression === 'none' });
    const stages: NodeJS.ReadWriteStream[] = [hashed];
    let tailMeter = hashed;
    if (sqlText && manifest.compression !== 'none') {
      tailMeter = new DumpMeter({ hash: false, tail: true });
      stages.push(decompressor(manifest.compression, env).stream, tailMeter);
    }
    // In the same pass, each SQL file as its client will read it (verifyBackup's scan of a single dump).
    const scanner = options.scan && sqlText ? tooling.scanner?.() : undefined;
    try {
      await pipeline([createReadStream(path, { highWaterMark: READ_CHUNK }), ...stages, discard(scanner ? (chunk) => scanner.push(chunk) : undefined)]);
    } catch (error) {
      problems.push(`reading ${path} failed: ${(error as Error).message}`);
    }
    const sha256 = hashed.sha256();
    found.push({ name: entry.name, bytes: hashed.bytes, sha256 });
    if (sha256 !== entry.sha256) problems.push(`SHA-256 of ${path} is ${sha256}, the manifest says ${entry.sha256}: the file was changed or damaged`);
    if (sqlText && !tooling.dumpCompleted(tailMeter.tail())) problems.push(`${path} does not end with the dump's completion line`);
    if (scanner && problems.length === 0) unsafe.push(...scanner.end().map((line) => `${entry.name}: ${line}`));
  }
  if (manifest.format === 'directory' && problems.length === 0) {
    const restoreTool = tooling.locateRestore(serverOf(manifest), env, { pgBinDir: options.pgBinDir, archiveToolVersion: manifest.tool.version });
    if (restoreTool.problem) problems.push(`cannot list the archive: ${restoreTool.problem}`);
    else {
      const listing = await listArchive(tooling.listInvocation(restoreTool, dir)!, env);
      if (!listing.ok) problems.push(`the archive does not list: ${listing.message}`);
    }
  }
  return { ok: problems.length === 0, manifest, file: dir, sha256: fileSetDigest(found), problems, unsafe: problems.length === 0 ? unsafe : [] };
}

function discard(each?: (chunk: Buffer) => void): Writable {
  return new Writable({ write: (chunk: Buffer, _encoding, callback) => {
    each?.(chunk);
    callback();
  } });
}
