import type { Knex } from 'knex';
import type { ParameterReader } from '../types.js';
import { rows } from './rows.js';

export class MysqlParameterReader implements ParameterReader {
  constructor(private readonly knex: Knex) {}

  /** The global value: what the migrator's new sessions start with. */
  async sortMemoryBytes(): Promise<number> {
    return Number(await this.global('sort_buffer_size'));
  }

  async binaryLogging(): Promise<boolean> {
    return Number(await this.global('log_bin')) === 1;
  }

  async trustFunctionCreators(): Promise<boolean> {
    return Number(await this.global('log_bin_trust_function_creators')) === 1;
  }

  /** Reads @@GLOBAL.<name>; `name` is one of the fixed identifiers above, never user input. */
  async global(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a server variable name: ${name}`);
    const [row] = rows<{ v: string | number }>(await this.knex.raw(`SELECT @@GLOBAL.${name} AS v`));
    return String(row.v);
  }
}
