import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { plannerOf } from './releases.js';
import { numericVersion } from './versions.js';

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

/**
 * The folders the installed migrator will run on a database whose SERVER_CHANGE_LOG records `recorded` (undefined or
 * empty: a fresh database, everything runs), as its own release's planner decides (src/openmetadata/releases.ts, plannerOf).
 * The migrator has no target option: what is pending comes from the distribution, whatever --to says.
 */
export function pendingVersions(distribution: Distribution, recorded: readonly string[] | undefined): string[] {
  const done = recordedNative(recorded);
  const highest = highestRecorded(recorded);
  if (highest === undefined) return [...distribution.versions];
  const planner = plannerOf(distribution.release ?? distribution.reach ?? highest);
  return distribution.versions.filter((folder) => {
    const v = numericVersion(folder)!;
    if (semver.gt(v, highest)) return true;
    if (planner === 'above-highest' || done.includes(v)) return false;
    return planner === 'gaps' || sameOrHigherTrain(v, highest);
  });
}

/** Folders below the highest recorded version that SERVER_CHANGE_LOG does not record (#24434, #24528). */
export function gapVersions(distribution: Distribution, recorded: readonly string[] | undefined): string[] {
  const done = recordedNative(recorded);
  const highest = highestRecorded(recorded);
  if (highest === undefined) return [];
  return distribution.versions.filter((folder) => {
    const v = numericVersion(folder)!;
    return semver.lt(v, highest) && !done.includes(v);
  });
}

/** Whether this distribution's migrator will ever run a gap below the highest recorded version. */
export function fillsGaps(distribution: Distribution, gap: string, highest: string): boolean {
  const planner = plannerOf(distribution.release ?? distribution.reach ?? highest);
  return planner === 'gaps' || (planner === 'gaps-in-train' && sameOrHigherTrain(gap, highest));
}

/**
 * Recorded native versions this distribution has no folder for, up to what it carries: the server compares the two and
 * refused to start on "Unexpected executed migrations […]" (#24434). The copied Flyway history (0.0.N) and extension or
 * baseline rows (a `-suffix`) are not native folders and are left out.
 */
export function unexpectedVersions(distribution: Distribution, recorded: readonly string[] | undefined): string[] {
  const folders = new Set(distribution.versions.map((f) => numericVersion(f)!));
  const floor = distribution.versions.length > 0 ? numericVersion(distribution.versions[0])! : undefined;
  return recordedNative(recorded)
    .filter((v) => !folders.has(v) && distribution.reach !== undefined && semver.lte(v, distribution.reach) && (floor === undefined || semver.gte(v, floor)))
    .sort(semver.compare);
}

/** The version SERVER_CHANGE_LOG will show after migrating to `target`: the highest folder at or below it. */
export function expectedVersion(distribution: Distribution, target: string | undefined): string | undefined {
  const below = distribution.versions.map((v) => numericVersion(v)!).filter((v) => target === undefined || semver.lte(v, target));
  return below.length > 0 ? below[below.length - 1] : undefined;
}

/** The plain release rows (1.10.2), not the copied Flyway history (0.0.N) nor extension or baseline rows (1.6.0-collate). */
function recordedNative(recorded: readonly string[] | undefined): string[] {
  return (recorded ?? []).filter((raw) => /^\d+\.\d+\.\d+$/.test(raw.trim()) && !raw.trim().startsWith('0.'))
    .map((raw) => numericVersion(raw)!);
}

/** The highest recorded version, suffixes ignored, as MigrationWorkflow compares them; undefined on a fresh database. */
function highestRecorded(recorded: readonly string[] | undefined): string | undefined {
  const all = (recorded ?? []).map((v) => numericVersion(v)).filter((v): v is string => v !== undefined && !v.startsWith('0.0.'));
  return all.length > 0 ? all.reduce((a, b) => (semver.gt(a, b) ? a : b)) : undefined;
}

function sameOrHigherTrain(version: string, highest: string): boolean {
  return semver.major(version) > semver.major(highest)
    || (semver.major(version) === semver.major(highest) && semver.minor(version) >= semver.minor(highest));
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
