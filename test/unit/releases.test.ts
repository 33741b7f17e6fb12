import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import semver from 'semver';
import { describeFabRevision, describeRevision, findRevision, isBeforeUuidPrimaryKey } from '../../src/airflow/revisions.js';
import { betterTarget, KNOWN_RELEASES, plannerOf, releasePath, releasesCrossed, requiredHop } from '../../src/openmetadata/releases.js';
import type { Distribution } from '../../src/openmetadata/distribution.js';
import { fillsGaps, gapVersions, pendingVersions, unexpectedVersions } from '../../src/openmetadata/distribution.js';
import { compareRowCounts, type IntendedRowChange, type TargetRowCounts } from '../../src/targets/rowCounts.js';

function dist(release: string, versions: string[]): Distribution {
  return { home: '/opt/openmetadata', hasOpsScript: true, versions, highestFolder: versions.at(-1), release, reach: release };
}

const FOLDERS = ['1.10.0', '1.10.1', '1.10.2', '1.11.0', '1.11.1', '1.11.2', '1.12.0', '1.12.1', '1.13.0', '2.0.0'];

describe('what the installed migrator runs', () => {
  it('each release plans as its MigrationWorkflow does: above the highest, then gaps of its train, then every gap', () => {
    assert.equal(plannerOf('1.11.4'), 'above-highest');
    assert.equal(plannerOf('1.12.2'), 'above-highest');
    assert.equal(plannerOf('1.12.3'), 'gaps-in-train');
    assert.equal(plannerOf('1.13.0'), 'gaps');
    assert.equal(plannerOf('2.1.0'), 'gaps');
    const recorded = ['0.0.1', '1.6.0-collate', '1.10.0', '1.10.2', '1.11.0', '1.12.0'];
    assert.deepEqual(pendingVersions(dist('1.12.1', FOLDERS.slice(0, 8)), recorded), ['1.12.1']);
    assert.deepEqual(pendingVersions(dist('1.12.10', FOLDERS.slice(0, 8)), recorded), ['1.12.1'], '1.11.x gaps are below the 1.12 train');
    assert.deepEqual(pendingVersions(dist('1.12.10', FOLDERS.slice(0, 8)), [...recorded.slice(0, 5)]), ['1.11.1', '1.11.2', '1.12.0', '1.12.1']);
    assert.deepEqual(pendingVersions(dist('1.13.0', FOLDERS.slice(0, 9)), recorded), ['1.10.1', '1.11.1', '1.11.2', '1.12.1', '1.13.0']);
  });

  it('a fresh database runs everything; --to plays no part (issue 21): the distribution alone says what runs', () => {
    assert.deepEqual(pendingVersions(dist('1.11.2', FOLDERS.slice(0, 6)), undefined), FOLDERS.slice(0, 6));
    assert.deepEqual(pendingVersions(dist('1.11.2', FOLDERS.slice(0, 6)), []), FOLDERS.slice(0, 6));
    assert.deepEqual(pendingVersions(dist('1.11.2', FOLDERS.slice(0, 6)), ['0.0.1', '0.0.57']), FOLDERS.slice(0, 6));
  });

  it('gaps below the highest recorded version, whether this migrator fills them, and recorded versions it has no folder for', () => {
    const d = dist('1.12.1', FOLDERS.slice(0, 8));
    const recorded = ['1.10.0', '1.10.2', '1.11.0', '1.11.3', '1.12.0', '1.12.0-collate', '0.0.12'];
    assert.deepEqual(gapVersions(d, recorded), ['1.10.1', '1.11.1', '1.11.2']);
    assert.equal(fillsGaps(d, '1.10.1', '1.12.0'), false);
    assert.equal(fillsGaps(dist('1.12.5', FOLDERS), '1.12.1', '1.12.2'), true);
    assert.equal(fillsGaps(dist('1.12.5', FOLDERS), '1.11.1', '1.12.2'), false);
    assert.equal(fillsGaps(dist('1.13.0', FOLDERS), '1.10.1', '1.12.2'), true);
    assert.deepEqual(unexpectedVersions(d, recorded), ['1.11.3'], 'extension rows and the Flyway copies are not native folders');
  });
});

describe('the release table', () => {
  it('is in version order and every entry says something', () => {
    for (let i = 1; i < KNOWN_RELEASES.length; i++) assert.ok(semver.lt(KNOWN_RELEASES[i - 1].version, KNOWN_RELEASES[i].version), KNOWN_RELEASES[i].version);
    for (const r of KNOWN_RELEASES) assert.ok(r.withdrawn || r.harmful || r.serversStopped || r.requiresAtLeast || r.intended, r.version);
  });

  it('names the hop 2.1 needs from below 2.0.0, and the path of releases', () => {
    assert.deepEqual(requiredHop('1.11.4', '2.1.0'), { release: '2.1.0', floor: '2.0.0', via: 'the latest 2.0.x (2.0.5 or later)' });
    assert.equal(requiredHop('2.0.0', '2.1.0'), undefined);
    assert.equal(requiredHop('1.11.4', '2.0.5'), undefined);
    assert.equal(requiredHop(undefined, '2.1.0'), undefined, 'a fresh database is installed from the baseline');
    assert.deepEqual(releasePath('1.11.4', '2.0.5'), ['1.11.4', '2.0.5']);
    assert.deepEqual(releasePath('1.11.4', '2.1.0'), ['1.11.4', 'the latest 2.0.x (2.0.5 or later) (with its own distribution)', '2.1.0']);
  });

  it('knows withdrawn and harmful targets and the better one', () => {
    assert.equal(betterTarget('1.12.2')?.release, '1.12.4 or later');
    assert.equal(betterTarget('1.12.5')?.release, '1.12.10 or later');
    for (const v of ['2.0.0', '2.0.1', '2.0.4']) assert.equal(betterTarget(v)?.release, '2.0.5 or later', v);
    assert.equal(betterTarget('2.0.5'), undefined);
    assert.equal(betterTarget('1.13.6'), undefined);
    assert.deepEqual(releasesCrossed('1.11.4', '2.0.5').filter((r) => r.serversStopped).map((r) => r.version), ['1.13.0']);
    assert.deepEqual(releasesCrossed('1.13.0', '2.0.5').filter((r) => r.serversStopped), []);
  });
});

describe('the row-count proof and what releases change on purpose', () => {
  const counts = (tables: Array<[string, number]>): TargetRowCounts[] => [{ role: 'openmetadata', database: 'om', tables: tables.map(([table, rows]) => ({ table, rows, exact: true })) }];
  const intended: IntendedRowChange[] = [
    { kind: 'renamed', table: 'thread_entity', to: 'thread_entity_legacy', why: '2.0.0 renames it', release: '2.0.0' },
    { kind: 'emptied', table: 'qrtz_', prefix: true, why: '1.13.0 clears Quartz', release: '1.13.0' },
    { kind: 'pruned', table: 'ingestion_pipeline_entity', bound: 'iceberg-pipelines', why: '1.13.0 drops Iceberg pipelines', release: '1.13.0', upTo: 2 },
  ];

  it('a rename with every row kept, emptied Quartz tables and pruning within its bound are expected, naming the release', () => {
    const r = compareRowCounts(counts([['thread_entity', 7], ['QRTZ_LOCKS', 3], ['ingestion_pipeline_entity', 5], ['table_entity', 20]]),
      counts([['thread_entity_legacy', 7], ['QRTZ_LOCKS', 0], ['ingestion_pipeline_entity', 3], ['table_entity', 20]]), intended);
    assert.deepEqual(r.lost, []);
    assert.deepEqual(r.expected.map((e) => [e.table, e.release]).sort(), [['QRTZ_LOCKS', '1.13.0'], ['ingestion_pipeline_entity', '1.13.0'], ['thread_entity', '2.0.0'], ['thread_entity_legacy', '2.0.0']]);
  });

  it('rows missing after a rename, pruning beyond the bound and any other loss are lost', () => {
    const r = compareRowCounts(counts([['thread_entity', 7], ['ingestion_pipeline_entity', 5], ['table_entity', 20]]),
      counts([['thread_entity_legacy', 6], ['ingestion_pipeline_entity', 2], ['table_entity', 19]]), intended);
    assert.deepEqual(r.lost.map((c) => c.table).sort(), ['ingestion_pipeline_entity', 'table_entity', 'thread_entity']);
    assert.deepEqual(compareRowCounts(counts([['thread_entity', 7]]), counts([['thread_entity', 0]]), []).lost.map((c) => c.table), ['thread_entity'],
      'nothing is expected without a crossed release');
  });
});

describe('Airflow revisions of the newer ingestion images', () => {
  it('knows the 3.1, 3.2 and 3.3 heads and the FAB chain: none is "unknown"', () => {
    for (const [revision, label] of [['cc92b33c6709', /3\.1\.0–3\.1\.7/], ['1d6611b6ab7c', /3\.2\.x/], ['d2f4e1b3c5a7', /3\.3\.0–3\.3\.1/]] as const) {
      assert.equal(findRevision(revision)?.head, true, revision);
      assert.match(describeRevision(revision), label);
      assert.equal(isBeforeUuidPrimaryKey(revision), false);
    }
    assert.match(describeFabRevision('6709f7a774b9'), /FAB provider base/);
    assert.match(describeFabRevision('02ca36b0235b'), /head of the FAB provider 3\.5\.0/);
    assert.match(describeFabRevision('ffffffffffff'), /not a FAB revision om-migrate knows/);
  });
});
