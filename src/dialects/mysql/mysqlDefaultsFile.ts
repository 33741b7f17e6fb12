import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A client option file holding only the password, for --defaults-extra-file; removed by `dispose`. */
export interface DefaultsFile {
  path: string | undefined;
  dispose(): void;
}

/**
 * MYSQL_PWD is deprecated by MySQL 8 and may vanish; an option file works on every client of both families. It lives
 * in its own 0700 directory so no other user can even see its name, and is 0600 itself.
 */
export function writeDefaultsFile(password: string | undefined): DefaultsFile {
  if (password === undefined) return { path: undefined, dispose: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'om-migrate-'));
  const path = join(dir, 'client.cnf');
  writeFileSync(path, `[client]\npassword="${escapeOptionValue(password)}"\n`, { mode: 0o600 });
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
