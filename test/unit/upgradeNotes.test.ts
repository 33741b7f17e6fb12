import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';
import {
  SORT_MEMORY_ADVICE, STUCK_RUNNING_ADVICE, UPGRADE_NOTES, UPGRADE_SOURCE_PAGES, UpgradeNote, UpgradeSourcePage,
} from '../../src/openmetadata/upgradeNotes.js';

/**
 * The release sections of each upgrade page ("## 1.6.4" under "Backward Incompatible Changes"). The 1.11 page has
 * none: its breaking changes belong to 1.11.0. Checked against the pages themselves when they are at hand.
 */
const RELEASE_SECTIONS: Record<UpgradeSourcePage, readonly string[]> = {
  'upgrade-prerequisites-1.4.md': ['1.4.0'],
  'upgrade-prerequisites-1.6.md': ['1.6.4', '1.6.2', '1.6.0'],
  'upgrade-prerequisites-1.7.md': ['1.7.0'],
  'upgrade-prerequisites-1.9.md': ['1.9.0'],
  'upgrade-prerequisites-1.11.md': [],
  // The 1.13 page repeats 1.11's breaking changes; what it adds (pg_trgm on Azure) belongs to its line's first release.
  'upgrade-prerequisites-1.13.mdx': [],
  // A release-notes page is one release's; 2.0.0's also says what "first shipped in 1.13.4" (Python 3.12, Airflow 3.3).
  'release-notes-1.12.0.md': ['1.12.0'],
  'release-notes-1.12.7.md': ['1.12.7'],
  'release-notes-1.13.0.md': ['1.13.0'],
  'release-notes-2.0.0.md': ['2.0.0', '1.13.4'],
  'breaking-changes-2.0.mdx': ['2.0.0'],
};

/** OpenMetadata's upgrade pages, where this machine has them. */
const SEEDS = process.env.OM_MIGRATE_UPGRADE_PAGES ?? '/work/shared/seeds';
const seedsHere = existsSync(join(SEEDS, 'upgrade-prerequisites-1.4.md'));
const needsSeeds = seedsHere ? {} : { skip: `the upgrade pages are not in ${SEEDS} (set OM_MIGRATE_UPGRADE_PAGES)` };

const SORT_MEMORY = /sort[\s_-]*(buffer|memory)|work_mem|out of sort/i;
const AIRFLOW_SIDE = /airflow|ingestion/i;
const text = (n: UpgradeNote): string => `${n.title}\n${n.action}`;

// Each check returns its complaints, so that the same function can be shown to complain about broken data.
const checks = {
  sorted(notes: readonly UpgradeNote[]): string[] {
    return notes.slice(1).flatMap((n, i) => (semver.valid(n.version) && semver.valid(notes[i].version) && semver.lt(n.version, notes[i].version)
      ? [`${n.id} (${n.version}) comes after ${notes[i].id} (${notes[i].version})`] : []));
  },
  semver(notes: readonly UpgradeNote[]): string[] {
    // A release, not a pre-release or an extension row such as 1.6.0-collate: the gate compares it with semver.
    return notes.filter((n) => semver.valid(n.version) !== n.version || semver.prerelease(n.version) !== null || n.version.includes('+'))
      .map((n) => `${n.id}: "${n.version}" is not a plain major.minor.patch semver`);
  },
  pagesCovered(notes: readonly UpgradeNote[]): string[] {
    return UPGRADE_SOURCE_PAGES.filter(({ page }) => !notes.some((n) => n.source === page)).map(({ page }) => `${page} contributes no note`);
  },
  sectionsCovered(notes: readonly UpgradeNote[]): string[] {
    return Object.entries(RELEASE_SECTIONS).flatMap(([page, versions]) => versions
      .filter((v) => !notes.some((n) => n.source === page && n.version === v)).map((v) => `${page}'s ${v} section has no note`));
  },
  rightRelease(notes: readonly UpgradeNote[]): string[] {
    return notes.flatMap((n) => {
      const page = UPGRADE_SOURCE_PAGES.find((p) => p.page === n.source);
      if (!page) return [`${n.id}: unknown source ${n.source}`];
      const sections = RELEASE_SECTIONS[page.page];
      const allowed = sections.length > 0 ? sections : [`${page.releaseLine}.0`];
      return allowed.includes(n.version) ? [] : [`${n.id}: ${n.version} is not a release section of ${n.source} (${allowed.join(', ')})`];
    });
  },
  noFix(notes: readonly UpgradeNote[]): string[] {
    return notes.filter((n) => /^\W*fix/i.test(n.action)).map((n) => `${n.id}: action starts with "fix"`);
  },
  noSortMemory(notes: readonly UpgradeNote[]): string[] {
    return notes.filter((n) => SORT_MEMORY.test(text(n))).map((n) => `${n.id} mentions sort memory (SORT_MEMORY_ADVICE covers it)`);
  },
  airflowConcerns(notes: readonly UpgradeNote[]): string[] {
    return notes.filter((n) => AIRFLOW_SIDE.test(text(n)) && n.concerns === 'openmetadata')
      .map((n) => `${n.id} is about Airflow or ingestion but concerns only openmetadata`);
  },
  checksOnAirflowNotes(notes: readonly UpgradeNote[]): string[] {
    return notes.filter((n) => n.check !== undefined && (n.concerns !== 'airflow' || n.when !== 'before'))
      .map((n) => `${n.id}: check ${n.check} runs in preflight against Airflow's database, so the note must be airflow/before`);
  },
  shape(notes: readonly UpgradeNote[]): string[] {
    const ids = new Set<string>();
    return notes.flatMap((n) => {
      const bad: string[] = [];
      if (!n.title.trim() || /\n/.test(n.title)) bad.push(`${n.id}: title must be one non-empty line`);
      if (!n.action.trim()) bad.push(`${n.id}: no action`);
      if (!['openmetadata', 'airflow', 'both'].includes(n.concerns)) bad.push(`${n.id}: concerns ${String(n.concerns)}`);
      if (!['before', 'after'].includes(n.when)) bad.push(`${n.id}: when ${String(n.when)}`);
      if (!n.id.startsWith(`${n.version}/`)) bad.push(`${n.id}: id does not start with its version`);
      if (ids.has(n.id)) bad.push(`${n.id}: duplicate id`);
      ids.add(n.id);
      return bad;
    });
  },
};

function clone(): UpgradeNote[] {
  return UPGRADE_NOTES.map((n) => ({ ...n }));
}

function find(notes: UpgradeNote[], id: string): UpgradeNote {
  const n = notes.find((x) => x.id === id);
  assert.ok(n, id);
  return n;
}

/** Eight words in a row taken from a page: a copied sentence, not our own words. */
function copiedRuns(sentence: string, page: string, run = 8): string[] {
  const words = (s: string): string[] => s.toLowerCase().replace(/[`*_"'()[\]{}]/g, ' ').split(/[^a-z0-9.=/-]+/).filter(Boolean);
  const pageText = ` ${words(page).join(' ')} `;
  const w = words(sentence);
  const found: string[] = [];
  for (let i = 0; i + run <= w.length; i++) {
    const piece = w.slice(i, i + run).join(' ');
    if (pageText.includes(` ${piece} `)) found.push(piece);
  }
  return found;
}

describe('upgrade notes', () => {
  it('are sorted by version ascending', () => assert.deepEqual(checks.sorted(UPGRADE_NOTES), []));
  it('carry release versions in plain semver (no pre-release or build part)', () => assert.deepEqual(checks.semver(UPGRADE_NOTES), []));
  it('come from every upgrade page', () => assert.deepEqual(checks.pagesCovered(UPGRADE_NOTES), []));
  it('cover every release section of every page', () => assert.deepEqual(checks.sectionsCovered(UPGRADE_NOTES), []));
  it('are attached to a release their page lists them under', () => assert.deepEqual(checks.rightRelease(UPGRADE_NOTES), []));
  it('say what to do or check, never "fix: …"', () => assert.deepEqual(checks.noFix(UPGRADE_NOTES), []));
  it('leave sort memory to SORT_MEMORY_ADVICE', () => assert.deepEqual(checks.noSortMemory(UPGRADE_NOTES), []));
  it('mark every Airflow or ingestion note as concerning airflow or both', () => assert.deepEqual(checks.airflowConcerns(UPGRADE_NOTES), []));
  it('keep automated checks on Airflow notes shown before the migration', () => assert.deepEqual(checks.checksOnAirflowNotes(UPGRADE_NOTES), []));
  it('have one-line titles, actions, known concerns and timing, unique ids', () => assert.deepEqual(checks.shape(UPGRADE_NOTES), []));

  it('keep the two automated checks on the releases that need them', () => {
    assert.deepEqual(UPGRADE_NOTES.filter((n) => n.check).map((n) => [n.version, n.check]),
      [['1.6.4', 'airflow-mysql-driver'], ['1.11.0', 'airflow-3-binlog']]);
  });

  it('have both "before" and "after" notes', () => {
    assert.ok(UPGRADE_NOTES.some((n) => n.when === 'before'));
    assert.ok(UPGRADE_NOTES.some((n) => n.when === 'after'));
  });
});

describe('advice for every upgrade', () => {
  it('sort memory: at least 20 MB, from every page, before the migration', () => {
    assert.equal(SORT_MEMORY_ADVICE.minimumBytes, 20 * 1024 * 1024);
    assert.match(SORT_MEMORY_ADVICE.title, /20 MB/);
    assert.match(SORT_MEMORY_ADVICE.title, /sort_buffer_size/);
    assert.match(SORT_MEMORY_ADVICE.title, /work_mem/);
    assert.equal(SORT_MEMORY_ADVICE.when, 'before');
    assert.deepEqual([...SORT_MEMORY_ADVICE.sources].sort(), UPGRADE_SOURCE_PAGES.filter((p) => p.kind === 'prerequisites').map((p) => p.page).sort());
    assert.doesNotMatch(SORT_MEMORY_ADVICE.action, /^\W*fix/i);
  });

  it('pipelines left Running: after the upgrade, always shown', () => {
    assert.equal(STUCK_RUNNING_ADVICE.when, 'after');
    assert.notEqual(STUCK_RUNNING_ADVICE.concerns, 'airflow', 'the status is in the OpenMetadata database');
    assert.doesNotMatch(STUCK_RUNNING_ADVICE.action, /^\W*fix/i);
  });
});

describe('the checks catch broken data', () => {
  it('a note out of order', () => {
    const notes = clone();
    [notes[0], notes[notes.length - 1]] = [notes[notes.length - 1], notes[0]];
    assert.notDeepEqual(checks.sorted(notes), []);
  });

  it('versions ordered as strings, not numbers', () => {
    const notes = clone().filter((n) => ['1.9.0', '1.11.0'].includes(n.version));
    notes.sort((a, b) => a.version.localeCompare(b.version));
    assert.notDeepEqual(checks.sorted(notes), []);
  });

  it('a version that is not semver', () => {
    for (const bad of ['1.6', 'v1.6.4', '1.6.0-collate', '1.6.0+b1', '1.x', '']) {
      const notes = clone();
      notes[0].version = bad;
      assert.notDeepEqual(checks.semver(notes), [], bad);
    }
  });

  it('a page with no note', () => {
    assert.notDeepEqual(checks.pagesCovered(clone().filter((n) => n.source !== 'upgrade-prerequisites-1.7.md')), []);
  });

  it('a release section with no note', () => {
    assert.notDeepEqual(checks.sectionsCovered(clone().filter((n) => n.version !== '1.6.2')), []);
  });

  it('a note on the wrong release', () => {
    const notes = clone();
    find(notes, '1.6.4/airflow-mysqldb-driver').version = '1.6.0';
    find(notes, '1.11.0/airflow-3-binlog').version = '1.11.4';
    assert.equal(checks.rightRelease(notes).length, 1, 'a 1.6.0 section exists on the 1.6 page; 1.11.4 is no release of the 1.11 page');
    const moved = clone();
    find(moved, '1.9.0/domain-to-domains').source = 'upgrade-prerequisites-1.7.md';
    assert.notDeepEqual(checks.rightRelease(moved), []);
  });

  it('an action phrased as a fix', () => {
    for (const bad of ['fix: set it to 1', 'Fix the driver', '  fixes itself']) {
      const notes = clone();
      notes[3].action = bad;
      assert.notDeepEqual(checks.noFix(notes), [], bad);
    }
  });

  it('sort memory attached to a release', () => {
    for (const bad of ['Raise sort_buffer_size first', 'Set work_mem to 20MB', 'Out of Sort Memory errors', 'more sort memory']) {
      const notes = clone();
      notes[5].action = bad;
      assert.notDeepEqual(checks.noSortMemory(notes), [], bad);
    }
  });

  it('an Airflow or ingestion note marked openmetadata', () => {
    const airflow = clone();
    find(airflow, '1.11.0/airflow-3-binlog').concerns = 'openmetadata';
    assert.notDeepEqual(checks.airflowConcerns(airflow), []);
    const ingestion = clone();
    find(ingestion, '1.6.0/workflow-success-rate').concerns = 'openmetadata';
    assert.notDeepEqual(checks.airflowConcerns(ingestion), []);
  });

  it('a check on a note the gate would not evaluate', () => {
    const notes = clone();
    find(notes, '1.11.0/airflow-3-stuck-migration').check = 'airflow-3-binlog';
    assert.notDeepEqual(checks.checksOnAirflowNotes(notes), []);
  });

  it('broken shape: two-line title, empty action, unknown timing, duplicate id', () => {
    const notes = clone();
    notes[0].title = 'one\ntwo';
    notes[1].action = ' ';
    (notes[2] as { when: string }).when = 'during';
    notes[4].id = notes[3].id;
    assert.equal(checks.shape(notes).length, 4);
  });
});

describe('upgrade notes against the pages', () => {
  const pages = (): string[] => readdirSync(SEEDS).filter((f) => /^upgrade-prerequisites-[\d.]+\.md$/.test(f)).sort();

  it('the pages at hand are the upgrade pages the notes name (up to 1.11; later pages are read at their source)', needsSeeds, () => {
    assert.deepEqual(pages(), UPGRADE_SOURCE_PAGES.filter((p) => p.page.endsWith('.md') && p.kind === 'prerequisites').map((p) => p.page).sort());
  });

  it('each page\'s release sections are the ones this test knows', needsSeeds, () => {
    for (const page of pages()) {
      const body = readFileSync(join(SEEDS, page), 'utf8');
      const changes = body.split(/^# Backward Incompatible Changes\s*$/m)[1] ?? '';
      const sections = [...changes.matchAll(/^## (\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]);
      assert.deepEqual(sections, RELEASE_SECTIONS[page as UpgradeSourcePage], page);
      const line = UPGRADE_SOURCE_PAGES.find((p) => p.page === page)!.releaseLine;
      for (const v of sections) assert.equal(`${semver.major(v)}.${semver.minor(v)}`, line, `${page}: ${v}`);
    }
  });

  it('the pages ask for sort memory and the advice names them all', needsSeeds, () => {
    for (const page of pages()) assert.match(readFileSync(join(SEEDS, page), 'utf8'), /sort_buffer_size[\s\S]*20MB/, page);
  });

  it('no note copies eight words in a row from its page', needsSeeds, () => {
    const copied = UPGRADE_NOTES.filter((n) => existsSync(join(SEEDS, n.source)))
      .flatMap((n) => copiedRuns(text(n), readFileSync(join(SEEDS, n.source), 'utf8')).map((run) => `${n.id}: "${run}"`));
    assert.deepEqual(copied, []);
  });

  it('the copy check would see a copied sentence', needsSeeds, () => {
    const page = readFileSync(join(SEEDS, 'upgrade-prerequisites-1.7.md'), 'utf8');
    assert.notDeepEqual(copiedRuns('We were already shipping our Docker images with Python 3.10, so this change should not affect you', page), []);
  });
});
