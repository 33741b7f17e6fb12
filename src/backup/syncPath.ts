import { open } from 'node:fs/promises';

/**
 * fsync a file or directory: a backup counts only once it would survive the machine crashing during the migration
 * that follows it.
 */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
