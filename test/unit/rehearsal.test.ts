import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionSpec } from '../../src/config/ConnectionSpec.js';
import { rehearsalCopyName as copyNameFor, rehearsalCopyPrefix as copyPrefixFor, rehearsalCopyRun as copyRunOf, withDatabase } from '../../src/rehearsal/copySpec.js';
import { formatDuration } from '../../src/rehearsal/rehearsalRecord.js';
import { countDifferences } from '../../src/engine/upBackups.js';
import { compareRowCounts, describeChange, watchedTable } from '../../src/targets/rowCounts.js';

describe('rehearsal copy names', () => {
  const source = { engine: 'postgres' as const, host: 'db', port: 5432, database: 'openmetadata_db' };
  const run = '1a2b3c4d-0000-4000-8000-000000000000';

  it('are unmistakable, within both engines\' limits, and found again by their source\'s prefix', () => {
    const name = copyNameFor(source, run);
    assert.match(name, /^omm_rehearsal_[0-9a-f]{10}_1a2b3c4d_openmetadata_db$/);
    assert.ok(name.startsWith(copyPrefixFor(source)));
    assert.equal(copyRunOf(name), '1a2b3c4d');
    for (const kept of [false, true]) {
      const long = copyNameFor({ ...source, database: 'A-Very-Long-Database-Name-For-OpenMetadata-In-Production-2026-and-more' }, 'ffffffff-0000', { kept });
      assert.match(long, /^omm_rehearsal_(kept_)?[0-9a-f]{10}_ffffffff_[a-z0-9_]+$/);
      assert.ok(long.length <= 63, `${long} is ${long.length} characters`);
    }
  });

  it('never fold two sources together: case, punctuation, length and server all tell them apart (issue 21, point 9)', () => {
    const names = ['db_A', 'db_a', 'db-a', 'db.a', 'x'.repeat(60) + 'a', 'x'.repeat(60) + 'b'];
    const prefixes = names.map((database) => copyPrefixFor({ ...source, database }));
    assert.equal(new Set(prefixes).size, names.length, prefixes.join(' '));
    for (const [i, p] of prefixes.entries()) {
      for (const database of names.filter((_, j) => j !== i)) assert.ok(!copyNameFor({ ...source, database }, run).startsWith(p), `${database} vs ${names[i]}`);
    }
    assert.notEqual(copyPrefixFor(source), copyPrefixFor({ ...source, host: 'other' }), 'the same name on another server');
  });

  it('a kept copy never matches any source\'s leftover prefix', () => {
    const kept = copyNameFor(source, run, { kept: true });
    assert.match(kept, /^omm_rehearsal_kept_/);
    assert.ok(kept.startsWith(copyPrefixFor(source, { kept: true })));
    assert.ok(!kept.startsWith(copyPrefixFor(source)));
    // "kept_" is not hex, and every leftover prefix has 10 hex digits where it stands.
    assert.match(copyPrefixFor({ ...source, database: 'kept' }), /^omm_rehearsal_[0-9a-f]{10}_$/);
    assert.equal(copyRunOf(kept), '1a2b3c4d');
    assert.equal(copyRunOf('omm_rehearsal_openmetadata_db_1a2b3c4d'), undefined, 'an older name is no copy of a known run');
  });

  it('point the Airflow URL at the copy and keep everything else', () => {
    const spec: ConnectionSpec = { engine: 'mysql', host: 'db', port: 3306, user: 'airflow_user', password: 'p/w@', database: 'airflow_db',
      params: {}, source: 'test', url: 'mysql+mysqldb://airflow_user:p%2Fw%40@db:3306/airflow_db?charset=utf8mb4' };
    const copy = withDatabase(spec, 'omm_rehearsal_airflow_db_1a2b3c4d');
    assert.equal(copy.database, 'omm_rehearsal_airflow_db_1a2b3c4d');
    assert.equal(copy.url, 'mysql+mysqldb://airflow_user:p%2Fw%40@db:3306/omm_rehearsal_airflow_db_1a2b3c4d?charset=utf8mb4');
    assert.equal(spec.database, 'airflow_db', 'the real spec is untouched');
  });
});

describe('row-count comparison', () => {
  it('lists every changed table and calls shrunk or vanished tables lost', () => {
    const before = [{ role: 'openmetadata' as const, database: 'om', tables: [
      { table: 'table_entity', rows: 10, exact: true }, { table: 'entity_relationship', rows: 20, exact: true },
      { table: 'tag_usage', rows: 3, exact: true }, { table: 'user_entity', rows: 9_000_000, exact: false, note: 'over 5000000 rows' }] }];
    const after = [{ role: 'openmetadata' as const, database: 'om', tables: [
      { table: 'table_entity', rows: 12, exact: true }, { table: 'entity_relationship', rows: 15, exact: true },
      { table: 'user_entity', rows: 9_000_000, exact: false, note: 'over 5000000 rows' }, { table: 'glossary_entity', rows: 0, exact: true }] }];
    const c = compareRowCounts(before, after);
    assert.equal(c.compared, 5);
    assert.deepEqual(c.changed.map(describeChange), [
      'openmetadata.entity_relationship 20 → 15 (−5)',
      'openmetadata.glossary_entity (absent) → 0 (+0)',
      'openmetadata.table_entity 10 → 12 (+2)',
      'openmetadata.tag_usage 3 → (absent) (−3)',
    ]);
    assert.deepEqual(c.lost.map((x) => x.table), ['entity_relationship', 'tag_usage']);
    assert.deepEqual(c.estimated, [{ role: 'openmetadata', table: 'user_entity', note: 'over 5000000 rows' }]);
  });

  it('watches the catalogue and Airflow\'s DAG and task tables, not om-migrate\'s own', () => {
    for (const t of ['table_entity', 'entity_relationship', 'field_relationship', 'tag_usage']) assert.ok(watchedTable('openmetadata', t), t);
    for (const t of ['SERVER_CHANGE_LOG', 'om_migrate_ledger', 'om_standin_1_11_0']) assert.ok(!watchedTable('openmetadata', t), t);
    for (const t of ['dag', 'dag_run', 'task_instance', 'task_map', 'xcom']) assert.ok(watchedTable('airflow', t), t);
    for (const t of ['alembic_version', 'om_migrate_journal', 'dagger']) assert.ok(!watchedTable('airflow', t), t);
  });

  it('durations read as people say them', () => {
    assert.equal(formatDuration(372_000), '6 min 12 s');
    assert.equal(formatDuration(2_400), '2.4 s');
    assert.equal(formatDuration(7_380_000), '2 h 3 min');
  });
});

describe('backup reuse: row counts (issue 21, point 7)', () => {
  it('only exact, equal counts of the same tables match', () => {
    const recorded = [{ table: 'table_entity', rows: 5, exact: true }, { table: 'entity_relationship', rows: 2, exact: true }];
    assert.deepEqual(countDifferences(recorded, recorded), []);
    assert.deepEqual(countDifferences(recorded, [{ table: 'table_entity', rows: 6, exact: true }, { table: 'entity_relationship', rows: 2, exact: true }]),
      ['table_entity 5 → 6']);
    assert.deepEqual(countDifferences(recorded, [{ table: 'table_entity', rows: 5, exact: true }, { table: 'tag_usage', rows: 0, exact: true }]),
      ['entity_relationship gone', 'tag_usage new']);
    assert.deepEqual(countDifferences(recorded, [{ table: 'table_entity', rows: 5, exact: false }, { table: 'entity_relationship', rows: 2, exact: true }]),
      ['table_entity counted by estimate']);
  });
});
