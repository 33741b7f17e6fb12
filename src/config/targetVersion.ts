import semver from 'semver';
import { usageError } from '../errors.js';

/** `--to 1.11` or `1.11.0` (a leading v is tolerated) → "1.11.0"; anything else is a usage error. */
export function parseTargetVersion(text: string, source = '--to'): string {
  const trimmed = text.trim();
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(trimmed);
  const normalized = match ? `${match[1]}.${match[2]}.${match[3] ?? '0'}` : undefined;
  if (!normalized || !semver.valid(normalized)) {
    throw usageError(`${source} "${text}" is not an OpenMetadata version`, 'Write the release you upgrade to, e.g. --to 1.11.0.');
  }
  return normalized;
}
