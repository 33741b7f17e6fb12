import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateRunDir } from '../../process/runDir.js';

/** A client option file holding only the password, for --defaults-extra-file; removed by `dispose`. */
export interface DefaultsFile {
  path: string | undefined;
  dispose(): void;
}

/**
 * MYSQL_PWD is deprecated by MySQL 8 and may vanish; an option file works on every client of both families. It lives
 * in a private run directory (0700) that the next run sweeps if this one is killed before it can remove it, and is
 * created exclusively (wx), 0600. A named pipe would keep it off the disk, but a pipe's content is lost if the client
 * opens it after we let go of it.
 */
export function writeDefaultsFile(password: string | undefined): DefaultsFile {
  if (password === undefined) return { path: undefined, dispose: () => undefined };
  const dir = privateRunDir();
  const path = join(dir, 'client.cnf');
  writeFileSync(path, `[client]\npassword="${escapeOptionValue(password)}"\n`, { mode: 0o600, flag: 'wx' });
  let disposed = false;
  return {
    path,
    dispose() {
      if (disposed) return;
      disposed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Option files read \\, \" and \n escapes inside a quoted value. */
function escapeOptionValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
