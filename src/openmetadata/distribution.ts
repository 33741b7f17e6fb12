import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { numericVersion } from '../config/versions.js';

/**
 * The OpenMetadata server distribution installed at --om-home, as its migrator sees it (docs/facts/openmetadata.md,
 * "Migration workflow"): the available migrations are the version folders under bootstrap/sql/migrations/native/, and a
 * folder is pending when its version is numerically above the highest one in SERVER_CHANGE_LOG. The release itself is
 * the version of libs/openmetadata-service-<version>.jar when there is one: a patch release may ship no folder of its
 * own, so its highest folder can be below it.
 */
export interface Distribution {
  home: string;
  /** bootstrap/openmetadata-ops.sh exists. */
  hasOpsScript: boolean;
  /** The version folders, numerically ascending. */
  versions: string[];
  /** The highest folder; undefined when there is none (no distribution). */
  highestFolder: string | undefined;
  /** From the service jar's name; undefined when there is no such jar. */
  release: string | undefined;
  /** What the distribution can bring a database to at most: the release, else the highest folder. */
  reach: string | undefined;
}

export const OPS_SCRIPT = 'bootstrap/openmetadata-ops.sh';
export const NATIVE_DIR = 'bootstrap/sql/migrations/native';

export function readDistribution(home: string): Distribution | undefined {
  const native = join(home, NATIVE_DIR);
  let names: string[];
  try {
    names = readdirSync(native);
  } catch {
    return undefined;
  }
  const versions = names.filter((name) => numericVersion(name) !== undefined && isDirectory(join(native, name)))
    .sort((a, b) => semver.compare(numericVersion(a)!, numericVersion(b)!));
  const highestFolder = versions.length > 0 ? numericVersion(versions[versions.length - 1]) : undefined;
  let release: string | undefined;
  try {
    for (const jar of readdirSync(join(home, 'libs'))) {
      const match = /^openmetadata-service-(\d+\.\d+\.\d+)(?:[-.].*)?\.jar$/.exec(jar);
      if (match && (!release || semver.gt(match[1], release))) release = match[1];
    }
  } catch {
    // no libs/: a development tree, or not a distribution
  }
  const reach = [release, highestFolder].filter((v): v is string => v !== undefined).sort(semver.rcompare)[0];
  return { home, hasOpsScript: isFile(join(home, OPS_SCRIPT)), versions, highestFolder, release, reach };
}

/** The folders the migrator will run for a database at `current` (undefined: fresh, everything runs), up to `target`. */
export function pendingVersions(distribution: Distribution, current: string | undefined, target: string | undefined): string[] {
  return distribution.versions.filter((folder) => {
    const v = numericVersion(folder)!;
    return (current === undefined || semver.gt(v, current)) && (target === undefined || semver.lte(v, target));
  });
}

/** The version SERVER_CHANGE_LOG will show after migrating to `target`: the highest folder at or below it. */
export function expectedVersion(distribution: Distribution, target: string | undefined): string | undefined {
  const below = distribution.versions.map((v) => numericVersion(v)!).filter((v) => target === undefined || semver.lte(v, target));
  return below.length > 0 ? below[below.length - 1] : undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
