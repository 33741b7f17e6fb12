import type { Knex } from 'knex';
import type { ParameterChangePlan, ParameterReader } from '../types.js';
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

  /** SET GLOBAL reaches every new session, which is what the migrator (another process) opens. */
  async planSortMemory(bytes: number): Promise<ParameterChangePlan | undefined> {
    const previous = await this.global('sort_buffer_size');
    if (Number(previous) >= bytes) return undefined;
    return {
      parameter: 'sort_buffer_size',
      scope: 'global',
      previous,
      next: String(bytes),
      apply: [`SET GLOBAL sort_buffer_size = ${bytes}`],
      revert: [`SET GLOBAL sort_buffer_size = ${Number(previous)}`],
    };
  }

  async planTrustFunctionCreators(): Promise<ParameterChangePlan | undefined> {
    if (!(await this.binaryLogging()) || (await this.trustFunctionCreators())) return undefined;
    return {
      parameter: 'log_bin_trust_function_creators',
      scope: 'global',
      previous: '0',
      next: '1',
      apply: ['SET GLOBAL log_bin_trust_function_creators = 1'],
      revert: ['SET GLOBAL log_bin_trust_function_creators = 0'],
    };
  }

  /** Reads @@GLOBAL.<name>; `name` is one of the fixed identifiers above, never user input. */
  async global(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a server variable name: ${name}`);
    const [row] = rows<{ v: string | number }>(await this.knex.raw(`SELECT @@GLOBAL.${name} AS v`));
    return String(row.v);
  }
}
