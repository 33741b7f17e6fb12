import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** om-migrate's own version, from package.json (dist/src/version.js → ../../package.json). */
export function omMigrateVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
