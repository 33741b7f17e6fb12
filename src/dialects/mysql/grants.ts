/**
 * Whether SHOW GRANTS lines give any of `privileges` (or ALL) on database `database`: through *.* or a database-level
 * grant whose pattern matches it (MySQL's patterns: `_` any one character, `%` any run, `\_` and `\%` themselves).
 */
export function grantsCover(grants: string[], database: string, privileges: string[]): boolean {
  for (const grant of grants) {
    const match = /^GRANT (.+?) ON (\*|`((?:[^`]|``)+)`)\.\* TO /i.exec(grant);
    if (!match) continue;
    const listed = match[1].toUpperCase();
    const gives = /\bALL\b/.test(listed) || privileges.some((p) => new RegExp(`\\b${p}\\b`).test(listed));
    if (!gives) continue;
    if (match[2] === '*') return true;
    if (patternMatches(match[3].replace(/``/g, '`'), database)) return true;
  }
  return false;
}

export function patternMatches(pattern: string, name: string): boolean {
  let regex = '^';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) regex += escape(pattern[++i]);
    else if (c === '_') regex += '.';
    else if (c === '%') regex += '.*';
    else regex += escape(c);
  }
  return new RegExp(`${regex}$`).test(name);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
