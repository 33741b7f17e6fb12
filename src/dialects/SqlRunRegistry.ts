import type { Knex } from 'knex';
import { fromHolderRow, HOLDER_TABLE, type HolderRowData } from './journalRows.js';
import type { RunHolderRow, RunRegistry, SchemaIntrospector } from './types.js';

/**
 * om_migrate_lock_holder: the lock holder's own description of itself (MariaDB without performance_schema keeps no
 * program names). Reading and removing rows is the same on both engines; each writes its own upsert and session id.
 */
export abstract class SqlRunRegistry implements RunRegistry {
  constructor(protected readonly knex: Knex, private readonly introspect: SchemaIntrospector) {}

  abstract connectionId(): Promise<string>;
  abstract record(row: RunHolderRow): Promise<void>;
  protected abstract rows<T>(result: unknown): T[];

  async remove(lockName: string, connectionId: string): Promise<void> {
    if (!(await this.introspect.tableExists(HOLDER_TABLE))) return;
    await this.knex.raw(`DELETE FROM ${HOLDER_TABLE} WHERE lock_name = ? AND connection_id = ?`, [lockName, connectionId]);
  }

  async find(lockName: string, connectionId: string): Promise<RunHolderRow | undefined> {
    if (!(await this.introspect.tableExists(HOLDER_TABLE))) return undefined;
    const [row] = this.rows<HolderRowData>(await this.knex.raw(
      `SELECT * FROM ${HOLDER_TABLE} WHERE lock_name = ? AND connection_id = ?`, [lockName, connectionId]));
    return row ? fromHolderRow(row) : undefined;
  }
}
