import type { Knex } from 'knex';
import type { ParameterReader, ParameterSetting, ServerProbe } from '../types.js';
import { rows } from './rows.js';
import { randomBytes } from 'node:crypto';

/** MySQL's own bounds for sort_buffer_size (32 KB minimum) and om-migrate's (4 GB: more is a typo, not a setting). */
const SORT_BUFFER_MIN = 32 * 1024;
const SORT_BUFFER_MAX = 4 * 1024 ** 3;

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
  async planSortMemory(bytes: number): Promise<ParameterSetting | undefined> {
    const previous = await this.global('sort_buffer_size');
    if (Number(previous) >= bytes) return undefined;
    return { parameter: 'sort_buffer_size', scope: 'global', object: null, previous, next: String(bytes) };
  }

  async planTrustFunctionCreators(): Promise<ParameterSetting | undefined> {
    if (!(await this.binaryLogging()) || (await this.trustFunctionCreators())) return undefined;
    return { parameter: 'log_bin_trust_function_creators', scope: 'global', object: null, previous: '0', next: '1' };
  }

  validate(s: ParameterSetting): string | undefined {
    if (s.scope !== 'global' || s.object !== null) return `${s.parameter} is changed at GLOBAL scope only, not ${s.scope}${s.object ? ` ${s.object}` : ''}`;
    for (const [what, value] of [['previous', s.previous], ['new', s.next]] as const) {
      if (value === null) return `${s.parameter} always has a ${what} value on MySQL`;
      if (s.parameter === 'sort_buffer_size') {
        if (!/^\d{1,10}$/.test(value) || Number(value) < SORT_BUFFER_MIN || Number(value) > SORT_BUFFER_MAX) {
          return `${what} sort_buffer_size "${value}" is not a byte count from ${SORT_BUFFER_MIN} to ${SORT_BUFFER_MAX}`;
        }
      } else if (s.parameter === 'log_bin_trust_function_creators') {
        if (!['0', '1'].includes(normalizeSwitch(value))) return `${what} log_bin_trust_function_creators "${value}" is not 0 or 1`;
      } else {
        return `${s.parameter} is not a parameter om-migrate changes on MySQL`;
      }
    }
    // om-migrate only ever raises sort_buffer_size and turns the trust on, so putting a change back only ever lowers
    // the one or turns the other off: a row that would do the opposite, whoever wrote it, describes no change of ours.
    if (s.parameter === 'sort_buffer_size' && BigInt(s.next as string) <= BigInt(s.previous as string)) {
      return `om-migrate only raises sort_buffer_size: ${s.previous} → ${s.next} is not a change it makes`;
    }
    if (s.parameter === 'log_bin_trust_function_creators' && (normalizeSwitch(s.previous as string) !== '0' || normalizeSwitch(s.next) !== '1')) {
      return `om-migrate only turns log_bin_trust_function_creators on: ${s.previous} → ${s.next} is not a change it makes`;
    }
    return undefined;
  }

  applyStatements(s: ParameterSetting): string[] {
    return [this.setGlobal(s, s.next)];
  }

  revertStatements(s: ParameterSetting): string[] {
    return [this.setGlobal(s, s.previous as string)];
  }

  async apply(s: ParameterSetting): Promise<void> {
    for (const statement of this.applyStatements(this.checked(s))) await this.knex.raw(statement);
  }

  async revert(s: ParameterSetting): Promise<void> {
    for (const statement of this.revertStatements(this.checked(s))) await this.knex.raw(statement);
  }

  /** Every MySQL parameter om-migrate changes is GLOBAL: the stored value is @@GLOBAL.<name>. */
  async readBack(s: Pick<ParameterSetting, 'parameter'>): Promise<string | null> {
    return this.global(s.parameter);
  }

  sameValue(a: string | null, b: string | null): boolean {
    if (a === null || b === null) return a === b;
    const [x, y] = [normalizeSwitch(a), normalizeSwitch(b)];
    return /^\d+$/.test(x) && /^\d+$/.test(y) ? BigInt(x) === BigInt(y) : x === y;
  }

  async alterSystemAllowed(): Promise<boolean> {
    return true;
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

  /** Reads @@GLOBAL.<name>; `name` is one of the fixed identifiers above, never input. */
  async global(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a server variable name: ${name}`);
    const [row] = rows<{ v: string | number }>(await this.knex.raw(`SELECT @@GLOBAL.${name} AS v`));
    return String(row.v);
  }

  private checked(s: ParameterSetting): ParameterSetting {
    const problem = this.validate(s);
    if (problem) throw new Error(`refusing to change ${s.parameter}: ${problem}`);
    return s;
  }

  /** Both names and values come from the validated setting: a fixed identifier and digits. */
  private setGlobal(s: ParameterSetting, value: string): string {
    const name = s.parameter === 'sort_buffer_size' ? 'sort_buffer_size' : 'log_bin_trust_function_creators';
    return `SET GLOBAL ${name} = ${Number(normalizeSwitch(value))}`;
  }
}

function normalizeSwitch(value: string): string {
  return ({ on: '1', off: '0' } as Record<string, string>)[value.trim().toLowerCase()] ?? value.trim();
}

/** GET_LOCK names are server-wide: a lock this session holds is seen, with its connection id, from any session of the server. */
export class MysqlServerProbe implements ServerProbe {
  constructor(private readonly knex: Knex) {}

  async mark(): Promise<{ token: string; connectionId: string }> {
    const token = `om-migrate:probe:${randomBytes(12).toString('hex')}`;
    const [row] = rows<{ got: number; id: string | number }>(await this.knex.raw('SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS id', [token]));
    if (Number(row.got) !== 1) throw new Error('could not take the probe lock');
    return { token, connectionId: String(row.id) };
  }

  async sees(marker: { token: string; connectionId: string }): Promise<boolean> {
    const [row] = rows<{ id: string | number | null }>(await this.knex.raw('SELECT IS_USED_LOCK(?) AS id', [marker.token]));
    return row.id !== null && String(row.id) === marker.connectionId;
  }

  async unmark(token: string): Promise<void> {
    await this.knex.raw('SELECT RELEASE_LOCK(?)', [token]);
  }
}
