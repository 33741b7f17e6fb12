import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** One read buffer for the whole file: hash.update() consumes it synchronously, so no chunk outlives its read. */
const READ_BYTES = 1024 * 1024;
/** How long to wait for the writer when the reader has caught up with it. */
const FOLLOW_POLL_MS = 40;

export interface HashedFile {
  bytes: number;
  sha256: string;
}

/**
 * SHA-256 of a file read sequentially from the start through `handle` (positional reads, so the handle's offset,
 * shared with a dump tool writing through a duplicate of it, is left alone).
 *
 * With `follow`, it reads the file while another process is still appending to it: whenever it catches up with the
 * writer it waits until the writer has written more or `follow` settles (the writer exited), then reads to the end.
 * Only valid for a writer that appends sequentially and never rewrites what it wrote (mariadb-dump/mysqldump to
 * standard output); pg_dump seeks back into a seekable output to fill in its table of contents, so its archive is
 * hashed once it is finished. Reads come from the page cache the writer just filled.
 */
export async function hashFile(handle: FileHandle, options: { follow?: Promise<unknown>; onBytes?: (bytes: number) => void } = {}): Promise<HashedFile> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let writerDone = options.follow === undefined;
  const done = options.follow?.then(() => { writerDone = true; }, () => { writerDone = true; });
  let position = 0;
  for (;;) {
    // Decided before the read: a short read after the writer finished is the real end of the file.
    const finalPass = writerDone;
    const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, position);
    if (bytesRead > 0) {
      hash.update(bytesRead === READ_BYTES ? buffer : buffer.subarray(0, bytesRead));
      position += bytesRead;
      options.onBytes?.(position);
      continue;
    }
    if (finalPass) break;
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS))]);
  }
  return { bytes: position, sha256: hash.digest('hex') };
}

/** The last `length` bytes of a file, for a SQL dump's completion line. */
export async function readTail(handle: FileHandle, size: number, length = 512): Promise<string> {
  const start = Math.max(0, size - length);
  const buffer = Buffer.alloc(size - start);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
  return buffer.subarray(0, bytesRead).toString('utf8');
}
