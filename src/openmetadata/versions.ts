import semver from 'semver';

/** How OpenMetadata numbers its releases in SERVER_CHANGE_LOG, and which one a database is at. */

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
