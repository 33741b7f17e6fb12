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

/**
 * The numeric part of a SERVER_CHANGE_LOG version: "1.6.0-collate" and "1.1.0-extension" are extension migrations of
 * 1.6.0 and 1.1.0. Returns undefined for a row that is not a version at all.
 */
export function numericVersion(version: string): string | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? `${Number(match[1])}.${Number(match[2])}.${Number(match[3])}` : undefined;
}

/**
 * The highest version compared numerically. A string MAX() would rank 1.9.5 above 1.10.2 (OpenMetadata's own bug until
 * PR #18616). The 0.0.N rows (old Flyway history copied in by 1.11) sort below every release, as they should.
 */
export function currentOpenMetadataVersion(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const raw of versions) {
    const version = numericVersion(raw);
    if (version !== undefined && (best === undefined || semver.gt(version, best))) best = version;
  }
  return best === '0.0.0' ? undefined : best;
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}
