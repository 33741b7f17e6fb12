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
  /** The last two chunks, by reference: the tail is cut from them once, when asked, not copied on every chunk. */
  private lastChunk: Buffer | undefined;
  private chunkBefore: Buffer | undefined;

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
    if (this.keepTail && chunk.length > 0) {
      // A short last chunk needs what came before it; older chunks are never needed and are not kept.
      this.chunkBefore = chunk.length >= TAIL_BYTES ? undefined : this.tailOf(this.lastChunk, this.chunkBefore);
      this.lastChunk = chunk;
    }
    this.onChunk?.();
    callback(null, chunk);
  }

  sha256(): string {
    if (!this.hash) throw new Error('this meter does not hash');
    return this.hash.digest('hex');
  }

  tail(): string {
    return (this.tailOf(this.lastChunk, this.chunkBefore) ?? Buffer.alloc(0)).toString('utf8');
  }

  /** The last TAIL_BYTES of `before` followed by `last`, copied (so a retained tail never pins a large chunk). */
  private tailOf(last: Buffer | undefined, before: Buffer | undefined): Buffer | undefined {
    if (!last) return before;
    if (last.length >= TAIL_BYTES || !before) return Buffer.from(last.subarray(-TAIL_BYTES));
    return Buffer.concat([before, last]).subarray(-TAIL_BYTES);
  }
}
