import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

const TAIL_BYTES = 512;

/**
 * Counts and (optionally) hashes the bytes going past and keeps the last few hundred of them, without holding more:
 * the SHA-256 is computed while streaming, and the tail proves a SQL dump was finished.
 */
export class DumpMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;
  private tailBuffer = Buffer.alloc(0);

  constructor(options: { hash: boolean; tail: boolean; onChunk?: () => void }) {
    super();
    this.hash = options.hash ? createHash('sha256') : undefined;
    this.keepTail = options.tail;
    this.onChunk = options.onChunk;
  }

  private readonly keepTail: boolean;
  private readonly onChunk: (() => void) | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash?.update(chunk);
    if (this.keepTail) {
      this.tailBuffer = chunk.length >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES))
        : Buffer.concat([this.tailBuffer, chunk]).subarray(-TAIL_BYTES);
    }
    this.onChunk?.();
    callback(null, chunk);
  }

  sha256(): string {
    if (!this.hash) throw new Error('this meter does not hash');
    return this.hash.digest('hex');
  }

  tail(): string {
    return this.tailBuffer.toString('utf8');
  }
}
