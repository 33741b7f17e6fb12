import type { Knex } from 'knex';
import { cancellable } from './cancellable.js';

/**
 * Runs `statements` in order on the dialect's pinned connection under `cancellable`: none starts once `signal` has
 * aborted, and the one waiting on the server is cancelled. With `transaction` they run all or nothing (as far as the
 * engine's DDL allows); `afterTransaction` then puts back session state that a failed transaction would otherwise
 * leave on that connection. The SQL itself stays with each dialect.
 */
export async function runStatements(knex: Knex, cancel: () => Promise<void>, statements: string[],
  options: { transaction: boolean; signal?: AbortSignal }, afterTransaction?: () => Promise<void>): Promise<void> {
  await cancellable(options.signal, cancel, async (check) => {
    const runEach = async (conn: Knex | Knex.Transaction) => {
      for (const statement of statements) {
        check();
        await conn.raw(statement);
      }
    };
    if (!options.transaction) return runEach(knex);
    try {
      await knex.transaction(runEach);
    } finally {
      await afterTransaction?.();
    }
  });
}
