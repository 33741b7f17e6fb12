import { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { findExecutable } from '../process/findExecutable.js';
import { OmMigrateError } from '../errors.js';
import type { Compression } from './backupFileName.js';
import { describeExit, spawnChild, succeeded } from '../process/spawnChild.js';
import { childEnvironment, type Environment } from '../process/childEnv.js';

/** A compressing or decompressing stage of a pipeline, and how to learn whether it failed. */
export interface CodecStage {
  stream: Duplex;
  /** Resolves when the stage is done; rejects with the codec's own message. */
  done: Promise<void>;
  /** "node:zlib gzip", "zstd 1.5.4 (program)": recorded so a restore can be reproduced by hand. */
  description: string;
  abort(): void;
}

type ZstdFactory = (options?: object) => Duplex;
// Node ≥ 22.15 has zstd in zlib; this project's floor (20.19) does not, so look it up rather than type it.
const nodeZstd = zlib as unknown as { createZstdCompress?: ZstdFactory; createZstdDecompress?: ZstdFactory };

/** Fails before any dump starts when the asked-for compression cannot be done here. */
export function checkCompression(compression: Compression, env: Environment): void {
  if (compression !== 'zstd' || nodeZstd.createZstdCompress || findExecutable('zstd', env)) return;
  throw new OmMigrateError('BACKUP_FAILED', `zstd compression is not available: Node ${process.versions.node} has no zstd in zlib and no zstd program is on PATH`,
    { hint: 'Install zstd (Debian: apt-get install zstd), use Node 22.15 or newer, or use --compress gzip / none.' });
}

export function compressor(compression: Exclude<Compression, 'none'>, env: Environment): CodecStage {
  if (compression === 'gzip') return zlibStage(zlib.createGzip({ level: 6 }), 'node:zlib gzip level 6');
  if (nodeZstd.createZstdCompress) return zlibStage(nodeZstd.createZstdCompress(), 'node:zlib zstd');
  // -T0: all cores; the dump tool is usually the slower side, so compression keeps up without a second pass.
  return programStage(['-q', '-c', '-3', '-T0'], 'zstd -3 (program)', env);
}

export function decompressor(compression: Exclude<Compression, 'none'>, env: Environment): CodecStage {
  if (compression === 'gzip') return zlibStage(zlib.createGunzip(), 'node:zlib gunzip');
  if (nodeZstd.createZstdDecompress) return zlibStage(nodeZstd.createZstdDecompress(), 'node:zlib zstd');
  return programStage(['-q', '-d', '-c'], 'zstd -d (program)', env);
}

function zlibStage(stream: Duplex, description: string): CodecStage {
  // zlib reports its errors through the pipeline itself.
  return { stream, done: Promise.resolve(), description, abort: () => stream.destroy() };
}

function programStage(args: string[], description: string, env: Environment): CodecStage {
  const path = findExecutable('zstd', env);
  if (!path) {
    throw new OmMigrateError('BACKUP_FAILED', 'the zstd program is not on PATH',
      { hint: 'Install zstd (Debian: apt-get install zstd) or use Node 22.15 or newer.' });
  }
  const child = spawnChild({ argv: [path, ...args], env: childEnvironment(env, 'tool-basics'), stdin: 'pipe', stdout: 'pipe', stderr: 'lines' });
  const stream = Duplex.from({ writable: child.stdin!, readable: child.stdout! });
  const done = child.exit.then((result) => {
    if (!succeeded(result)) throw new Error(describeExit('zstd', result));
  });
  return { stream, done, description, abort: child.stop };
}
