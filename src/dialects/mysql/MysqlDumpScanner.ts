import type { DumpScanner } from '../types.js';

const NL = 0x0a;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const BANG = 0x21;
const HASH = 0x23;
const DASH = 0x2d;
const BACKTICK = 0x60;
/** The bytes the client's parser acts on outside quotes: backslash, the quotes, #, -, / and *. */
const SPECIAL = new Uint8Array(256);
for (const c of [BACKSLASH, 0x27, 0x22, BACKTICK, HASH, DASH, SLASH, STAR]) SPECIAL[c] = 1;
const MAX_PROBLEMS = 5;
const HEAD = 48;
const SANDBOX_LINE = /^\/\*M!999999\\- enable the sandbox mode \*\/\s*$/;
/** The client's own commands by name (client/mysql.cc's commands[]) that do something; in binary mode the server gets them. */
const NAMED_COMMANDS = /^(system|source|connect|charset|tee|pager|edit|prompt)\b/i;

/**
 * Reads a SQL dump the way the mysql/mariadb client reads it in batch, --binary-mode (client/mysql.cc, add_line and
 * find_command: statements split at the delimiter outside quotes and comments; `/*!…*\/` and `/*M!…*\/` are SQL;
 * backslash escapes inside '…' and "…" only; the DELIMITER command at the start of a statement; every other client
 * command is refused), and names what a dump of one database by mariadb-dump/mysqldump never holds:
 * - a client command outside quotes (`\!`, `\.`, `\u`, `\C`, …): binary mode refuses them, but the client would then
 *   stop half way through a restore;
 * - a statement that leaves the database being restored: USE, CREATE/DROP DATABASE or SCHEMA (a dump of one database
 *   names none; a table name with a line break, in a dump tool that writes it raw into a comment, can).
 * Byte-wise: utf8mb4's multi-byte sequences never contain an ASCII quote, backslash or delimiter byte.
 */
export class MysqlDumpScanner implements DumpScanner {
  private carry: Buffer[] = [];
  private line = 0;
  private delimiter = Buffer.from(';');
  private quote = 0;
  private comment = false;
  /** The start of the current statement, comments left out, executable-comment markers dropped. */
  private head = '';
  private headLine = 0;
  private empty = true;
  private readonly found: Array<{ line: number; what: string }> = [];

  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL);
    if (nl < 0) {
      // A line longer than a chunk (a row with a large blob): kept in pieces, joined once when it ends.
      this.carry.push(Buffer.from(chunk));
      return;
    }
    if (this.carry.length > 0) {
      const line = Buffer.concat([...this.carry, chunk.subarray(0, nl)]);
      this.carry = [];
      this.scanLine(line, 0, line.length);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    while (nl >= 0) {
      this.scanLine(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
  }

  end(): string[] {
    if (this.carry.length > 0) {
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.scanLine(line, 0, line.length);
    }
    this.endStatement();
    return this.found.map((f) => `line ${f.line}: ${f.what}`);
  }

  private scanLine(buf: Buffer, from: number, to: number): void {
    this.line += 1;
    if (this.found.length >= MAX_PROBLEMS) return;
    // mariadb-dump's first line: MariaDB's client reads it as "enter sandbox mode", before parsing (MDEV-21178).
    if (this.line === 1 && SANDBOX_LINE.test(buf.toString('latin1', from, Math.min(to, from + 64)))) return;
    if (this.empty && this.quote === 0 && !this.comment) {
      if (this.delimiterCommand(buf, from, to)) return;
      // A named client command takes its whole line in the client's normal mode; binary mode sends it on instead.
      const named = NAMED_COMMANDS.exec(buf.toString('latin1', from, Math.min(to, from + 80)).trimStart());
      if (named) {
        this.problem(`the client command ${named[1]} (${printable(buf, from, to).trim()})`);
        return;
      }
    }
    const d0 = this.delimiter[0];
    let i = from;
    while (i < to) {
      if (this.comment) {
        const close = indexOfPair(buf, STAR, SLASH, i, to);
        if (close < 0) return;
        this.comment = false;
        i = close + 2;
        continue;
      }
      if (this.quote !== 0) {
        i = this.inQuote(buf, i, to);
        continue;
      }
      const c = buf[i];
      // Most bytes of a dump: nothing the client's parser looks at.
      if (SPECIAL[c] === 0 && c !== d0) {
        if (this.head.length < HEAD) this.take(String.fromCharCode(c));
        i += 1;
        continue;
      }
      if (c === BACKSLASH) {
        const next = i + 1 < to ? String.fromCharCode(buf[i + 1]) : '';
        this.problem(`the client command \\${next} (${printable(buf, i, to)})`);
        // Its argument is the rest of the line, as the client reads it outside binary mode.
        return;
      }
      if (c === d0 && this.atDelimiter(buf, i, to)) {
        this.endStatement();
        i += this.delimiter.length;
        continue;
      }
      if (c === HASH || (c === DASH && buf[i + 1] === DASH && (i + 2 >= to || isSpace(buf[i + 2]) || this.empty))) return;
      if (c === SLASH && buf[i + 1] === STAR) {
        const executable = buf[i + 2] === BANG || (buf[i + 2] === 0x4d && buf[i + 3] === BANG); // /*! or /*M!
        if (!executable) {
          this.comment = true;
          i += 2;
          continue;
        }
        // The server runs what follows the marker and its version number: that is SQL, read as such.
        i += buf[i + 2] === BANG ? 3 : 4;
        while (i < to && buf[i] >= 0x30 && buf[i] <= 0x39) i += 1;
        this.take(' ');
        continue;
      }
      if (c === STAR && buf[i + 1] === SLASH) {
        // The end of an executable comment: nothing for the statement's text.
        i += 2;
        this.take(' ');
        continue;
      }
      if (c === 0x27 || c === 0x22 || c === BACKTICK) this.quote = c;
      if (this.head.length < HEAD) this.take(String.fromCharCode(c));
      i += 1;
    }
    this.take(' ');
  }

  /** Inside '…', "…" or `…`: to the closing quote (a doubled one closes and reopens), skipping backslash escapes. */
  private inQuote(buf: Buffer, i: number, to: number): number {
    const q = this.quote;
    let j = i;
    if (q === BACKTICK) {
      while (j < to && buf[j] !== q) j += 1;
    } else {
      while (j < to) {
        const c = buf[j];
        if (c === q) break;
        j += c === BACKSLASH ? 2 : 1;
      }
    }
    const next = j < to ? j + 1 : to;
    if (j < to) this.quote = 0;
    if (this.head.length < HEAD) this.head += buf.toString('utf8', i, Math.min(next, i + HEAD));
    return next;
  }

  /** A DELIMITER command, at the start of a statement: the only client command binary mode still runs (besides \C). */
  private delimiterCommand(buf: Buffer, from: number, to: number): boolean {
    const text = buf.toString('latin1', from, Math.min(to, from + 80));
    const m = /^\s*delimiter\s+(\S+)/i.exec(text);
    if (!m) return false;
    this.delimiter = Buffer.from(m[1], 'latin1');
    return true;
  }

  private atDelimiter(buf: Buffer, i: number, to: number): boolean {
    const d = this.delimiter;
    if (buf[i] !== d[0] || i + d.length > to) return false;
    for (let k = 1; k < d.length; k += 1) if (buf[i + k] !== d[k]) return false;
    return true;
  }

  private take(text: string): void {
    if (this.empty) {
      if (/^\s+$/.test(text)) return;
      this.empty = false;
      this.headLine = this.line;
    }
    if (this.head.length < HEAD) this.head += text;
  }

  private endStatement(): void {
    if (!this.empty) {
      const head = this.head.replace(/\s+/g, ' ').trim();
      if (/^USE\b/i.test(head)) this.problem(`a USE statement (${head}), which takes the restore out of the database it restores`, this.headLine);
      else if (/^(CREATE|DROP|ALTER)\s+(DATABASE|SCHEMA)\b/i.test(head) && !/^ALTER\s+(DATABASE|SCHEMA)\s+\S+\s+(CHARACTER|COLLATE|DEFAULT)/i.test(head)) {
        this.problem(`a statement on a whole database (${head})`, this.headLine);
      }
    }
    this.head = '';
    this.empty = true;
  }

  private problem(what: string, line = this.line): void {
    if (this.found.length < MAX_PROBLEMS) this.found.push({ line, what });
  }
}

function indexOfPair(buf: Buffer, a: number, b: number, from: number, to: number): number {
  for (let i = buf.indexOf(a, from); i >= 0 && i + 1 < to; i = buf.indexOf(a, i + 1)) {
    if (buf[i + 1] === b) return i;
  }
  return -1;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** The line from `at`, cut to 60 characters, control characters shown as `?`: for a message. */
function printable(buf: Buffer, at: number, to: number): string {
  return buf.toString('utf8', at, Math.min(to, at + 60)).replace(/[\u0000-\u001f\u007f]/g, '?');
}
