/**
 * Removes secrets from text that is printed or stored (a migrator's output, a tool's error, a driver message): every
 * configured secret in every form a program may print it in, and the password part of any URL (`scheme://user:pw@`),
 * configured or not. Nothing om-migrate prints or stores goes around this.
 *
 * A secret is matched character by character, each character in any of its spellings, mixed freely: as itself,
 * percent-encoded (either case, UTF-8 bytes), `+` for a space (form encoding), JSON/Java/Python escapes (`\"`, `\\`,
 * `\u00e9` in either case, surrogate pairs), a backslash before it (shell double quotes), and a quote closed and
 * reopened or doubled (shell `'\''`, SQL `''`, CSV `""`). Its base64 forms (standard and URL-safe) are matched whole.
 */
export class Redactor {
  private readonly secrets: string[];
  private readonly pattern: RegExp | undefined;

  constructor(secrets: Iterable<string | undefined>) {
    const all = new Set<string>();
    for (const secret of secrets) if (secret) all.add(secret);
    this.secrets = [...all];
    // Longest first, so a secret that contains another is replaced whole.
    const sources = this.secrets.flatMap(spellings).sort((a, b) => b.length - a.length);
    this.pattern = sources.length > 0 ? new RegExp(sources.join('|'), 'g') : undefined;
  }

  redact(text: string): string {
    const out = this.pattern ? text.replace(this.pattern, '***') : text;
    return out.replace(URL_PASSWORD, '$1***@');
  }

  /** A Redactor that also hides `more`. */
  with(...more: Array<string | undefined>): Redactor {
    return new Redactor([...this.secrets, ...more]);
  }
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

export const NO_SECRETS = new Redactor([]);

/** Regular-expression sources matching `secret`: per character in any spelling, and its base64 forms. */
function spellings(secret: string): string[] {
  const perCharacter = [...secret].map(characterPattern).join('');
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const base64Url = Buffer.from(secret, 'utf8').toString('base64url');
  const whole = [base64, base64.replace(/=+$/, ''), base64Url].filter((b) => b.length >= 8).map(escapeRegExp);
  return [perCharacter, ...new Set(whole)];
}

/** One character (a code point) of a secret, in any of the ways it is printed. */
function characterPattern(char: string): string {
  const options = new Set<string>([escapeRegExp(char), `\\\\${escapeRegExp(char)}`]);
  options.add([...Buffer.from(char, 'utf8')].map((byte) => `%${hexPattern(byte, 2)}`).join(''));
  const units = [...Array(char.length).keys()].map((i) => char.charCodeAt(i));
  options.add(units.map((unit) => `\\\\u${hexPattern(unit, 4)}`).join(''));
  if (char.length === 1 && char.charCodeAt(0) < 0x100) options.add(`\\\\x${hexPattern(char.charCodeAt(0), 2)}`);
  if (char === ' ') options.add('\\+');
  if (char === "'") for (const quoted of ["'\\\\''", "''", '\'"\'"\'']) options.add(quoted);
  if (char === '"') options.add('""');
  const named = JSON_NAMED[char];
  if (named) options.add(`\\\\${named}`);
  return `(?:${[...options].join('|')})`;
}

const JSON_NAMED: Record<string, string> = { '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f' };

/** A number in hex, each letter digit in either case. */
function hexPattern(value: number, width: number): string {
  return value.toString(16).padStart(width, '0').replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
