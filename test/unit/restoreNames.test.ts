import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restoreNames, sourceHash } from '../../src/config/scratchNames.js';

describe('restore-on-failure names', () => {
  const run = '1a2b3c4d-0000-4000-8000-000000000000';
  const source = { engine: 'postgres' as const, host: 'db', port: 5432, database: 'openmetadata_db' };

  it('carry the source\'s hash, the run and the readable name, within 63 characters', () => {
    const { scratch, kept } = restoreNames(source, run);
    assert.equal(scratch, `omm_restore_${sourceHash(source)}_1a2b3c4d_openmetadata_db`);
    assert.equal(kept, `omm_failed_${sourceHash(source)}_1a2b3c4d_openmetadata_db`);
    const long = restoreNames({ ...source, database: 'A-Very-Long-Database-Name-For-OpenMetadata-In-Production-2026-and-more' }, run);
    for (const name of [long.scratch, long.kept]) {
      assert.match(name, /^omm_(restore|failed)_[0-9a-f]{10}_1a2b3c4d_a_very_long_[a-z0-9_]+$/);
      assert.ok(name.length <= 63, `${name} is ${name.length} characters`);
    }
  });

  it('never fold two databases of one server together in one run: case, punctuation, length (issue 23)', () => {
    for (const engine of ['mysql', 'postgres'] as const) {
      const names = ['db_A', 'db_a', 'db-a', 'db.a', 'x'.repeat(60) + 'a', 'x'.repeat(60) + 'b'];
      const all = names.flatMap((database) => Object.values(restoreNames({ ...source, engine, database }, run)));
      assert.equal(new Set(all).size, all.length, all.join(' '));
    }
    // An OpenMetadata db_A and an Airflow db_a on one server: the failed states kept apart.
    assert.notEqual(restoreNames({ ...source, database: 'db_A' }, run).kept, restoreNames({ ...source, database: 'db_a' }, run).kept);
  });

  it('the plan shows the names as they will be, <run> in the run\'s place', () => {
    const long = { ...source, database: 'y'.repeat(70) };
    const planned = restoreNames(long);
    const real = restoreNames(long, run);
    assert.equal(planned.kept.replace('<run>', '1a2b3c4d'), real.kept);
    assert.equal(planned.scratch, `omm_restore_${sourceHash(long)}_<run>_${'y'.repeat(63 - 32)}`);
  });
});
