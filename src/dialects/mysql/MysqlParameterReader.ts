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

  async execute(statements: readonly string[]): Promise<void> {
    for (const statement of statements) await this.knex.raw(statement);
  }

  /** Every MySQL parameter om-migrate changes is GLOBAL: the stored value is @@GLOBAL.<name>. */
  async readBack(plan: Pick<ParameterChangePlan, 'parameter'>): Promise<string | null> {
    return this.global(plan.parameter);
  }

  sameValue(a: string | null, b: string | null): boolean {
    if (a === null || b === null) return a === b;
    const norm = (v: string) => ({ on: '1', off: '0' } as Record<string, string>)[v.trim().toLowerCase()] ?? v.trim();
    const [x, y] = [norm(a), norm(b)];
    return /^\d+$/.test(x) && /^\d+$/.test(y) ? BigInt(x) === BigInt(y) : x === y;
  }

  isPrivilegeRefusal(error: unknown): boolean {
    // 1227 ER_SPECIFIC_ACCESS_DENIED_ERROR ("you need (at least one of) the SUPER privilege(s)").
    return (error as { errno?: number }).errno === 1227;
  }

  async serverIdentity(): Promise<string> {
    const [row] = rows<{ h: string; p: number; s: number }>(
      await this.knex.raw('SELECT @@hostname AS h, @@port AS p, @@server_id AS s'));
    return `mysql://${row.h}:${row.p}#${row.s}`;
  }

  /** Reads @@GLOBAL.<name>; `name` is one of the fixed identifiers above, never user input. */
  async global(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a server variable name: ${name}`);
    const [row] = rows<{ v: string | number }>(await this.knex.raw(`SELECT @@GLOBAL.${name} AS v`));
    return String(row.v);
  }
}
