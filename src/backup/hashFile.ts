import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * One read buffer for the whole file: hash.update() consumes it synchronously, so no chunk outlives its read. 4 MB:
 * fewer read calls than 1 MB for the same copy out of the page cache (measured: docs/performance.md).
 */
export const READ_BYTES = 4 * 1024 * 1024;
/** How long to wait for the writer when the reader has caught up with it. */
const FOLLOW_POLL_MS = 40;
const TAIL_BYTES = 512;

export interface HashedFile {
  bytes: number;
  sha256: string;
  /** The file's last TAIL_BYTES bytes, as UTF-8 (a SQL dump's completion line). */
  tail: string;
}

/**
 * SHA-256 of a file read sequentially from the start through `handle` (positional reads, so the handle's offset,
 * shared with a dump tool writing through a duplicate of it, is left alone), and its last bytes.
 *
 * With `follow`, it reads the file while another process is still appending to it: whenever it has caught up with
 * the writer (a read shorter than the buffer) it waits until the writer has written more or `follow` settles (the
 * writer exited), then reads to the end. Only valid for a writer that appends sequentially and never rewrites what it
 * wrote (mariadb-dump/mysqldump to standard output); pg_dump seeks back into a seekable output to fill in its table of
 * contents, so its archive is hashed once it is finished. Reads come from the page cache the writer just filled.
 */
export async function hashFile(handle: FileHandle,
  options: { follow?: Promise<unknown>; onBytes?: (bytes: number) => void; buffer?: Buffer } = {}): Promise<HashedFile> {
  const hash = createHash('sha256');
  // A caller hashing many files one after another lends one buffer, rather than leave each to the collector.
  const buffer = options.buffer && options.buffer.length === READ_BYTES ? options.buffer : Buffer.allocUnsafe(READ_BYTES);
  let tail = Buffer.alloc(0);
  let writerDone = options.follow === undefined;
  const done = options.follow?.then(() => { writerDone = true; }, () => { writerDone = true; });
  let position = 0;
  for (;;) {
    // Decided before the read: a read after the writer finished sees the whole file.
    const finalPass = writerDone;
    const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, position);
    if (bytesRead > 0) {
      const chunk = bytesRead === READ_BYTES ? buffer : buffer.subarray(0, bytesRead);
      hash.update(chunk);
      // Copied, never a view of the shared buffer.
      tail = bytesRead >= TAIL_BYTES ? Buffer.from(chunk.subarray(-TAIL_BYTES)) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
      position += bytesRead;
      options.onBytes?.(position);
    }
    // A full buffer: there may be more at once. After the writer finished: read until a read returns nothing.
    if (bytesRead === READ_BYTES || (finalPass && bytesRead > 0)) continue;
    if (finalPass) break;
    // Caught up with the writer: let it write a few megabytes rather than read it in slivers.
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS))]);
  }
  return { bytes: position, sha256: hash.digest('hex'), tail: tail.toString('utf8') };
}
