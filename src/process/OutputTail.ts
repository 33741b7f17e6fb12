import type { Redactor } from './redact.js';

/** A line longer than this is cut: a migrator printing a 300 KB line must not fill the ledger or the terminal. */
export const MAX_LINE_CHARS = 4096;
const TAIL_LINES = 40;
/** What is kept for the ledger and --json: it fits a TEXT column (64 KB) with room to spare. */
export const MAX_TAIL_CHARS = 16 * 1024;

/**
 * Splits a child's output into lines as it arrives, redacts each, cuts overlong ones, hands each to `onLine` and keeps
 * only the last few: memory stays flat whether the child prints ten lines or two million.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private readonly carry = new Map<string, string>();

  constructor(private readonly redactor: Redactor, private readonly onLine?: (line: string) => void) {}

  push(stream: string, chunk: string): void {
    let text = (this.carry.get(stream) ?? '') + chunk;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.emit(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    // A line without an end yet: keep at most what would be printed of it.
    if (text.length > MAX_LINE_CHARS) {
      this.emit(text);
      text = '';
    }
    this.carry.set(stream, text);
  }

  /** The unterminated last lines, once the child has exited. */
  flush(): void {
    for (const text of this.carry.values()) if (text) this.emit(text);
    this.carry.clear();
  }

  /** The last lines, redacted, at most MAX_TAIL_CHARS. */
  text(): string {
    const joined = this.lines.join('\n');
    return joined.length > MAX_TAIL_CHARS ? joined.slice(-MAX_TAIL_CHARS) : joined;
  }

  private emit(raw: string): void {
    const cut = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)} … [${raw.length - MAX_LINE_CHARS} characters cut]` : raw;
    const line = this.redactor.redact(cut.replace(/\r$/, ''));
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.onLine?.(line);
  }
}
