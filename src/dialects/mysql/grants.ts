/**
 * SHOW GRANTS lines, as MySQL 8 and MariaDB print them, read as data: which privileges, on what level and object, to
 * whom. Database-level grants are patterns (`_` any one character, `%` any run, `\_` and `\%` themselves), which is
 * how a DBA's ``GRANT ALL ON `om\_%`.*`` reaches a database created long after it.
 */
export interface ParsedGrant {
  /** The line without its grantee and what follows ("GRANT INSERT, UPDATE ON `om\_%`.*"): no password hash. */
  text: string;
  /** Upper-case privilege names, column lists dropped ("ALL PRIVILEGES", "CREATE VIEW", "UPDATE"). */
  privileges: string[];
  /** The privilege list as written, column lists included, for the REVOKE that undoes it. */
  privilegeText: string;
  /** The object as written ("*.*", "`om\_%`.*", "FUNCTION `db`.`f`", "''@'%'"). */
  objectText: string;
  on:
    | { level: 'global' }
    | { level: 'database'; pattern: string }
    | { level: 'table'; database: string; table: string }
    | { level: 'routine'; database: string }
    | { level: 'proxy' };
  /** `app`@`%`, `role`, PUBLIC */
  grantee: string;
}

/** A role granted to the account or to one of its roles: `GRANT `dba` TO `app`@`%`` (MariaDB) or `GRANT `dba`@`%` TO …` (MySQL 8). */
export function grantedRoles(line: string): string[] {
  const parts = splitTopLevel(line);
  if (!parts || parts.on !== undefined) return [];
  return splitList(parts.privileges).map((r) => r.trim()).filter((r) => r.startsWith('`'));
}

export function parseGrant(line: string): ParsedGrant | undefined {
  const parts = splitTopLevel(line);
  if (!parts || parts.on === undefined) return undefined;
  const items = splitList(parts.privileges);
  const privileges = items.map((p) => p.replace(/\(.*$/s, '').trim().toUpperCase()).filter((p) => p !== '');
  const objectText = parts.on.trim();
  const base = { text: `GRANT ${parts.privileges} ON ${objectText}`, privileges, privilegeText: parts.privileges, objectText, grantee: parts.grantee };
  if (privileges.length === 1 && privileges[0] === 'PROXY') return { ...base, on: { level: 'proxy' } };
  const routine = /^(?:FUNCTION|PROCEDURE|PACKAGE BODY|PACKAGE)\s+(.*)$/is.exec(objectText);
  const [db, table] = splitQualified(routine ? routine[1] : objectText);
  if (db === undefined) return undefined;
  if (routine) return { ...base, on: { level: 'routine', database: unquote(db) } };
  if (db === '*' && table === '*') return { ...base, on: { level: 'global' } };
  if (table === '*') return { ...base, on: { level: 'database', pattern: unquote(db) } };
  return { ...base, on: { level: 'table', database: unquote(db), table: unquote(table ?? '') } };
}

/**
 * Whether SHOW GRANTS lines give any of `privileges` (or ALL) on database `database`: through *.* or a database-level
 * grant whose pattern matches it.
 */
export function grantsCover(grants: string[], database: string, privileges: string[]): boolean {
  return grants.map(parseGrant).some((g) => g !== undefined && gives(g, privileges)
    && (g.on.level === 'global' || (g.on.level === 'database' && patternMatches(g.on.pattern, database))));
}

/**
 * Everything that lets a change or a new object appear in `database`: DDL and data privileges, at any level, and
 * triggers, views and routines (code the admin would run by reading). SELECT, SHOW VIEW, EXECUTE, LOCK TABLES and
 * the like only read or delay.
 */
export const WRITE_PRIVILEGES = ['ALL', 'ALL PRIVILEGES', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX',
  'CREATE VIEW', 'TRIGGER', 'CREATE ROUTINE', 'ALTER ROUTINE', 'EVENT', 'DELETE HISTORY'];

/** The grants that let their grantee write or create anything in `database` (or act as another account: PROXY). */
export function grantsWriting(grants: ParsedGrant[], database: string): ParsedGrant[] {
  return grants.filter((g) => {
    if (g.on.level === 'proxy') return true;
    if (!gives(g, WRITE_PRIVILEGES)) return false;
    switch (g.on.level) {
      case 'global': return true;
      case 'database': return patternMatches(g.on.pattern, database);
      default: return g.on.database.toLowerCase() === database.toLowerCase();
    }
  });
}

/** Whether the grants let their grantee change server variables itself (SUPER, SYSTEM_VARIABLES_ADMIN, ALL on *.*). */
export function grantsSetGlobal(grants: ParsedGrant[]): boolean {
  return grants.some((g) => g.on.level === 'global' && gives(g, ['SUPER', 'SYSTEM_VARIABLES_ADMIN']));
}

function gives(g: ParsedGrant, privileges: string[]): boolean {
  return g.privileges.some((p) => p === 'ALL' || p === 'ALL PRIVILEGES' || privileges.includes(p));
}

/**
 * A database-level grant pattern against a name, case-insensitively (lower_case_table_names may fold either): `_` is
 * one character, `%` any run, a backslash makes the next character itself.
 */
export function patternMatches(pattern: string, name: string): boolean {
  let regex = '^';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) regex += escape(pattern[++i]);
    else if (c === '_') regex += '.';
    else if (c === '%') regex += '.*';
    else regex += escape(c);
  }
  return new RegExp(`${regex}$`, 'is').test(name);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * "GRANT <privileges> ON <object> TO <grantee> …" cut at the top-level " ON " and " TO ", outside backquotes, quotes
 * and parentheses (a column may be called `x ON y`). A role grant has no ON.
 */
function splitTopLevel(line: string): { privileges: string; on: string | undefined; grantee: string } | undefined {
  if (!/^GRANT\s/i.test(line)) return undefined;
  const body = line.slice(6);
  const cuts: Array<{ word: string; at: number }> = [];
  let quote: string | undefined;
  let depth = 0;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (quote) {
      if (c === quote) {
        if (body[i + 1] === quote) i += 1;
        else quote = undefined;
      }
      continue;
    }
    if (c === '`' || c === '\'' || c === '"') quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (depth === 0 && c === ' ') {
      const word = /^ (ON|TO) /i.exec(body.slice(i, i + 4))?.[1]?.toUpperCase();
      if (word) cuts.push({ word, at: i });
    }
  }
  const to = cuts.find((c) => c.word === 'TO');
  if (!to) return undefined;
  const on = cuts.find((c) => c.word === 'ON' && c.at < to.at);
  const grantee = body.slice(to.at + 4).replace(/\s+(IDENTIFIED|WITH|REQUIRE)\b.*$/is, '').trim();
  return on
    ? { privileges: body.slice(0, on.at).trim(), on: body.slice(on.at + 4, to.at), grantee }
    : { privileges: body.slice(0, to.at).trim(), on: undefined, grantee };
}

/** A comma-separated list outside parentheses and quotes. */
function splitList(text: string): string[] {
  const out: string[] = [];
  let quote: string | undefined;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '`' || c === '\'' || c === '"') quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/** "`db`.`t`" → ["`db`", "`t`"]; "*.*" → ["*", "*"]; split at the dot outside backquotes. */
function splitQualified(text: string): [string | undefined, string | undefined] {
  let inQuote = false;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '`') {
      if (inQuote && text[i + 1] === '`') i += 1;
      else inQuote = !inQuote;
    } else if (text[i] === '.' && !inQuote) {
      return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
    }
  }
  return [undefined, undefined];
}

function unquote(name: string): string {
  return name.startsWith('`') && name.endsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}
