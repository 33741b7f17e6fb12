import semver from 'semver';

/**
 * What om-migrate knows about OpenMetadata releases after 1.11, read in OpenMetadata's own release notes
 * (openmetadata-site content/product-updates/v<version>.md), its upgrade pages (docs-om) and the migrations the releases
 * ship (open-metadata/OpenMetadata bootstrap/sql/migrations/native/<version>/). Each fact, with where it was read, is in
 * docs/facts/openmetadata.md ("Releases after 1.11"). A release that is not listed is simply not special: its upgrade
 * notes (src/openmetadata/upgradeNotes.ts) are all there is to say.
 *
 * Adding a release: read its release notes and upgrade page, add a KnownRelease here when its migration does something
 * an operator must prepare for (servers stopped, tables renamed or emptied, a hop), and its notes to upgradeNotes.ts.
 */

/** A table a release's migration renames, empties or prunes on purpose: the row-count proof reports it as expected. */
export interface IntendedChange {
  kind: 'renamed' | 'emptied' | 'pruned';
  /** The table name, compared case-insensitively; `prefix` matches every table starting with it (the QRTZ_ tables). */
  table: string;
  prefix?: boolean;
  /** renamed: the name the rows move to (their count must arrive there intact). */
  to?: string;
  /** pruned: how many rows may go is read before the run (`bound`), e.g. the pipelines of Iceberg services. */
  bound?: 'iceberg-pipelines';
  /** Why, in one line. */
  why: string;
}

export interface KnownRelease {
  version: string;
  /** Withdrawn by OpenMetadata: never the target to choose. */
  withdrawn?: { why: string; use: string };
  /** Its migration or its code is known to hurt a catalogue; `use` names the release that repairs it. */
  harmful?: { why: string; use: string };
  /** Every OpenMetadata server (every replica) must be stopped while its migration runs. */
  serversStopped?: string;
  /** A database below `version` cannot be migrated by this release, even with --force: it must go through `via` first. */
  requiresAtLeast?: { version: string; via: string };
  /** Its PostgreSQL migration builds indexes with CREATE INDEX CONCURRENTLY (outside a transaction). */
  concurrentIndexes?: boolean;
  intended?: IntendedChange[];
}

/** The releases after 1.11 whose migration or status needs om-migrate's attention, in version order. */
export const KNOWN_RELEASES: readonly KnownRelease[] = [
  {
    // PR #26629 "Move Migrations to 1.12.4 since 1.12.2 is yanked"; its release-notes page was reverted (openmetadata-site #332).
    version: '1.12.2',
    withdrawn: { why: '1.12.2 was withdrawn (yanked) by OpenMetadata; its migrations moved to 1.12.4', use: '1.12.4' },
  },
  {
    // 1.12.6 removed the broken v1125 migration (PR #27427); 1.12.10 heals the PostgreSQL certification rows it stranded (PR #28635).
    version: '1.12.5',
    harmful: { why: '1.12.5 shipped a broken data migration (removed in 1.12.6) that strands certification rows on PostgreSQL (healed by 1.12.10)', use: '1.12.10' },
  },
  {
    // 1.13.0/{mysql,postgres}/schemaChanges.sql: DELETE FROM every QRTZ_ table, "must run with the application fully
    // stopped"; postgres: CREATE INDEX CONCURRENTLY …_fqnhash_pattern; postDataMigrationSQLScript: Iceberg pipelines
    // hard-deleted, Iceberg services become CustomDatabase. Release notes v1.13.0, "Operational Notes".
    version: '1.13.0',
    serversStopped: '1.13.0\'s migration empties the Quartz scheduler tables (QRTZ_*), which a running server holds locks in',
    concurrentIndexes: true,
    intended: [
      { kind: 'emptied', table: 'qrtz_', prefix: true, why: '1.13.0 clears the Quartz scheduler tables' },
      { kind: 'pruned', table: 'ingestion_pipeline_entity', bound: 'iceberg-pipelines', why: '1.13.0 deletes the ingestion pipelines of Iceberg services (the Iceberg connector is removed)' },
    ],
  },
  {
    // 2.0.0/{mysql,postgres}/postDataMigrationSQLScript.sql, "PHASE 2E": thread_entity renamed to thread_entity_legacy.
    version: '2.0.0',
    harmful: { why: 'upgrading into 2.0.0–2.0.4 can remove ingestion-managed metadata (descriptions, display names, constraints, tags) that 2.0.5\'s migration restores', use: '2.0.5' },
    intended: [{ kind: 'renamed', table: 'thread_entity', to: 'thread_entity_legacy', why: '2.0.0 renames thread_entity to thread_entity_legacy (threads move to task_entity, announcement_entity, activity_stream)' }],
  },
  ...['2.0.1', '2.0.2', '2.0.3', '2.0.4'].map((version) => ({
    version,
    harmful: { why: `upgrading into ${version} can remove ingestion-managed metadata that 2.0.5's migration restores (release notes 2.0.5, PR #34836)`, use: '2.0.5' },
  })),
  {
    // MigrationWorkflow.UPGRADE_GATE_ERROR and MigrationVersionUtil.MINIMUM_SUPPORTED_MIGRATION_VERSION (PR #31232, #31231).
    version: '2.1.0',
    requiresAtLeast: { version: '2.0.0', via: 'the latest 2.0.x (2.0.5 or later)' },
    // migration/utils/v210/MigrationUtil#archiveLegacyThreadStorage ("2.1.0 archival of legacy thread storage after task
    // cutover"); one stored version says it is not wired to a step yet, so it may not happen: a rename that does not
    // happen changes no count.
    intended: [{ kind: 'renamed', table: 'thread_entity_legacy', to: 'thread_entity_archived', why: '2.1.0 archives thread_entity_legacy as thread_entity_archived' }],
  },
];

export function knownRelease(version: string): KnownRelease | undefined {
  return KNOWN_RELEASES.find((r) => r.version === version);
}

/** The known releases a database moving from `from` (exclusive; undefined: fresh) to `to` (inclusive) passes through. */
export function releasesCrossed(from: string | undefined, to: string): KnownRelease[] {
  return KNOWN_RELEASES.filter((r) => (from === undefined || semver.gt(r.version, from)) && semver.lte(r.version, to));
}

/** A hop the database must make first: a release at or below `to` that refuses databases below its floor. */
export function requiredHop(current: string | undefined, to: string): { release: string; floor: string; via: string } | undefined {
  if (current === undefined) return undefined; // a fresh database is installed from the release's own baseline
  for (const r of KNOWN_RELEASES) {
    if (!r.requiresAtLeast || semver.gt(r.version, to)) continue;
    if (semver.lt(current, r.requiresAtLeast.version)) return { release: r.version, floor: r.requiresAtLeast.version, via: r.requiresAtLeast.via };
  }
  return undefined;
}

/** The releases an upgrade goes through, for the plan: "1.11.4 → 2.0.5", or with a hop "1.11.4 → 2.0.x → 2.1.0". */
export function releasePath(current: string | undefined, to: string | undefined): string[] {
  if (to === undefined) return [];
  const hop = requiredHop(current, to);
  return [current ?? 'fresh', ...(hop ? [`${hop.via} (with its own distribution)`] : []), to];
}

/** A withdrawn or harmful target, and the release to choose instead. */
export function betterTarget(to: string | undefined): { release: string; why: string } | undefined {
  const known = to === undefined ? undefined : knownRelease(to);
  const problem = known?.withdrawn ?? known?.harmful;
  return problem ? { release: `${problem.use} or later`, why: problem.why } : undefined;
}

/**
 * How the installed migrator decides what is pending, by its release (docs/facts/openmetadata.md, "Which versions the
 * migrator runs"):
 * - `above-highest`: only version folders above the highest recorded version (up to 1.12.2);
 * - `gaps-in-train`: also unrecorded folders below it, of the highest version's major.minor or above (PR #26592, from
 *   1.12.3: inferred from the merge date);
 * - `gaps`: every unrecorded folder (PR #27703; 1.13.0's notes: "SERVER_CHANGE_LOG historical gaps backfilled").
 * From 2.1 only rows whose `status` is COMPLETED count as recorded (MigrationWorkflow.readAppliedVersionsStrictly).
 */
export type Planner = 'above-highest' | 'gaps-in-train' | 'gaps';

export function plannerOf(release: string): Planner {
  if (semver.lt(release, '1.12.3')) return 'above-highest';
  if (semver.lt(release, '1.13.0')) return 'gaps-in-train';
  return 'gaps';
}
