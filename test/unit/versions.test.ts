import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRevision, isBeforeUuidPrimaryKey } from '../../src/airflow/revisions.js';
import { formatBytes, parseDuration, parseSize } from '../../src/config/units.js';
import { parseTargetVersion } from '../../src/config/targetVersion.js';
import { compareVersions, currentOpenMetadataVersion, numericVersion } from '../../src/openmetadata/versions.js';
import { OmMigrateError } from '../../src/errors.js';
import { TRICKY_VERSIONS } from '../fixtures/openmetadata/serverChangeLog.js';

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof OmMigrateError && error.code === 'USAGE' && message.test(error.message));
}

describe('currentOpenMetadataVersion', () => {
  it('compares numerically: 1.10.2 is above 1.9.5, whatever a string MAX() says', () => {
    assert.equal(currentOpenMetadataVersion(['1.9.5', '1.10.2']), '1.10.2');
    assert.equal(currentOpenMetadataVersion(['1.10.2', '1.9.5']), '1.10.2');
    assert.equal(currentOpenMetadataVersion(['1.2.0', '1.10.0', '1.9.10', '1.9.9']), '1.10.0');
  });

  it('reads the fixture mix (0.0.N history, -collate and -extension rows) as 1.10.2', () => {
    assert.equal(currentOpenMetadataVersion(TRICKY_VERSIONS), '1.10.2');
  });

  it('compares suffixed rows on their numeric part', () => {
    assert.equal(currentOpenMetadataVersion(['1.5.11', '1.6.0-collate']), '1.6.0');
    assert.equal(currentOpenMetadataVersion(['1.1.0-extension', '1.0.0']), '1.1.0');
    assert.equal(numericVersion('1.6.0-collate'), '1.6.0');
    assert.equal(numericVersion('01.06.00'), '1.6.0');
    assert.equal(numericVersion('not a version'), undefined);
  });

  it('ranks the 0.0.N Flyway rows below every release', () => {
    assert.equal(currentOpenMetadataVersion(['0.0.1', '0.0.99', '1.0.0']), '1.0.0');
    assert.equal(currentOpenMetadataVersion(['0.0.120', '1.11.0', '0.0.2']), '1.11.0');
  });

  it('returns undefined for an empty table or rows that are no version', () => {
    assert.equal(currentOpenMetadataVersion([]), undefined);
    assert.equal(currentOpenMetadataVersion(['garbage']), undefined);
  });

  it('compareVersions orders numerically', () => {
    assert.ok(compareVersions('1.9.5', '1.10.2') < 0);
    assert.equal(compareVersions('1.6.0', '1.6.0'), 0);
  });
});

describe('parseTargetVersion', () => {
  it('normalizes major.minor, a leading v and surrounding space', () => {
    assert.equal(parseTargetVersion('1.11'), '1.11.0');
    assert.equal(parseTargetVersion('1.11.0'), '1.11.0');
    assert.equal(parseTargetVersion('v1.6.4'), '1.6.4');
    assert.equal(parseTargetVersion(' 1.10.2 '), '1.10.2');
  });

  it('refuses everything else as a usage error', () => {
    for (const bad of ['', '1', '1.x', '1.2.3.4', 'latest', '1.11.0-rc1', '-1.0.0', '1..2']) usage(() => parseTargetVersion(bad), /is not an OpenMetadata version/);
  });
});

describe('sizes and durations', () => {
  it('parses sizes in bytes, K/KB, M/MB, G/GB, any case', () => {
    assert.equal(parseSize('1048576', 'f'), 1048576);
    assert.equal(parseSize('20MB', 'f'), 20 * 1024 ** 2);
    assert.equal(parseSize('64m', 'f'), 64 * 1024 ** 2);
    assert.equal(parseSize('512 KB', 'f'), 512 * 1024);
    assert.equal(parseSize('1.5G', 'f'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('10b', 'f'), 10);
  });

  it('refuses sizes that are not sizes, naming the flag', () => {
    for (const bad of ['', 'lots', '20XB', '-1MB', 'MB']) usage(() => parseSize(bad, '--work-mem'), /^--work-mem ".*" is not a size$/);
  });

  it('parses durations; a bare number is seconds', () => {
    assert.equal(parseDuration('6h', 'f'), 6 * 3_600_000);
    assert.equal(parseDuration('30m', 'f'), 30 * 60_000);
    assert.equal(parseDuration('45s', 'f'), 45_000);
    assert.equal(parseDuration('250ms', 'f'), 250);
    assert.equal(parseDuration('2d', 'f'), 2 * 86_400_000);
    assert.equal(parseDuration('1.5h', 'f'), 5_400_000);
    assert.equal(parseDuration('90', 'f'), 90_000);
    assert.equal(parseDuration('0', 'f'), 0);
  });

  it('refuses durations that are not durations', () => {
    for (const bad of ['', 'soon', '6 hours', '-1h', '1w']) usage(() => parseDuration(bad, '--stale-after'), /^--stale-after ".*" is not a duration$/);
  });

  it('formats bytes for messages', () => {
    assert.equal(formatBytes(20 * 1024 ** 2), '20 MB');
    assert.equal(formatBytes(2 * 1024 ** 2 + 512 * 1024), '2.5 MB');
    assert.equal(formatBytes(32 * 1024), '32 KB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GB');
    assert.equal(formatBytes(12), '12 B');
  });
});

describe('Airflow revisions', () => {
  it('names a revision inside a chain, a head, and an unknown one', () => {
    assert.equal(describeRevision('05234396c6fc'), '05234396c6fc (0041 rename dataset as asset, inside the 3.0.0 chain)');
    assert.equal(describeRevision('d59cbbef95eb'), 'd59cbbef95eb (0042 add UUID primary key to task_instance, inside the 3.0.0 chain)');
    assert.equal(describeRevision('5f2621c13b39'), '5f2621c13b39 (head of Airflow 2.10.3–2.10.5 (OpenMetadata 1.7–1.10))');
    assert.equal(describeRevision('cc92b33c6709'), 'cc92b33c6709 (head of Airflow 3.1.0–3.1.7 (OpenMetadata 1.11))');
    assert.equal(describeRevision('deadbeef0000'), 'deadbeef0000 (not a revision om-migrate knows)');
  });

  it('knows which side of d59cbbef95eb a revision is', () => {
    assert.equal(isBeforeUuidPrimaryKey('5f2621c13b39'), true);
    assert.equal(isBeforeUuidPrimaryKey('05234396c6fc'), true);
    assert.equal(isBeforeUuidPrimaryKey('d59cbbef95eb'), false);
    assert.equal(isBeforeUuidPrimaryKey('658517c60c7f'), false);
    assert.equal(isBeforeUuidPrimaryKey('deadbeef0000'), undefined);
  });

  it('knows the head of every Airflow line OpenMetadata shipped (1.4–1.6 databases are not "unknown")', () => {
    for (const head of ['1949afb29106', '686269002441', '5f2621c13b39']) assert.equal(isBeforeUuidPrimaryKey(head), true, head);
    for (const head of ['29ce7909c52b', 'fe199e1abd77', 'cc92b33c6709', '509b94a1042d']) assert.equal(isBeforeUuidPrimaryKey(head), false, head);
    assert.doesNotMatch(describeRevision('1949afb29106'), /not a revision om-migrate knows/);
  });
});
