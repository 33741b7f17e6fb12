import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import type { Dialect } from '../../src/dialects/types.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase } from '../helpers/servers.js';

/**
 * The row counts `up` compares before and after, on the machine's MariaDB and PostgreSQL: exact where the estimate is
 * small, the server's estimate above --exact-up-to, and the estimate again when the server's own statement timeout
 * cuts a count off — here because another session holds the table locked, which a count waits on.
 */
for (const server of SERVERS) {
  describe(`row counts: ${server.label}`, () => {
    let db: ScratchDatabase;
    let app: Dialect;
    before(async () => {
      db = await createScratchDatabase(server, 'omm_rows');
      app = await connect(db.appSpec);
      await app.knex.raw('CREATE TABLE small (id int PRIMARY KEY)');
      await app.knex.raw('CREATE TABLE locked (id int PRIMARY KEY)');
      await app.knex.raw('INSERT INTO small VALUES (1), (2), (3)');
      await app.knex.raw('INSERT INTO locked VALUES (1)');
    });
    after(async () => {
      await app.close();
      await db.drop();
    });

    it('counts exactly under the limit, and keeps the estimate over it', async () => {
      assert.deepEqual(await app.rowCounts.tableNames(), ['locked', 'small']);
      const exact = await app.rowCounts.countRows(['small'], { exactUpTo: 1000, timeoutMs: 5000 });
      assert.deepEqual(exact, [{ table: 'small', rows: 3, exact: true }]);
      const estimated = await app.rowCounts.countRows(['small'], { exactUpTo: -1, timeoutMs: 5000 });
      assert.equal(estimated[0].exact, false);
      assert.match(estimated[0].note ?? '', /over -1 rows: the server's estimate/);
    });

    it('a count cut off by the statement timeout falls back to the estimate, and the next table is still counted', async () => {
      // Another session holds the table exclusively, in a transaction it keeps open while we count.
      const holder = await connect(db.rootSpec);
      const trx = await holder.knex.transaction();
      try {
        await trx.raw(server.engine === 'mysql' ? 'LOCK TABLES locked WRITE' : 'LOCK TABLE locked IN ACCESS EXCLUSIVE MODE');
        const counts = await app.rowCounts.countRows(['locked', 'small'], { exactUpTo: 1000, timeoutMs: 1000 });
        assert.equal(counts[0].table, 'locked');
        assert.equal(counts[0].exact, false);
        assert.match(counts[0].note ?? '', /count cut off after 1 s: the server's estimate/);
        assert.deepEqual(counts[1], { table: 'small', rows: 3, exact: true });
      } finally {
        if (server.engine === 'mysql') await trx.raw('UNLOCK TABLES');
        await trx.rollback();
        await holder.close();
      }
    });
  });
}
