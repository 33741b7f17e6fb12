import type { Redactor } from './redact.js';

/** A line longer than this is cut: a migrator printing a 300 KB line must not fill the ledger or the terminal. */
export const MAX_LINE_CHARS = 4096;
const TAIL_LINES = 40;
/** What is kept for the ledger and --json: it fits a TEXT column (64 KB) with room to spare. */
export const MAX_TAIL_CHARS = 16 * 1024;

/**
 * How much of an overlong line is read before it is cut: the cut lands after redaction, so a secret that crosses
 * MAX_LINE_CHARS is still seen whole (and replaced) as long as it is shorter than this margin.
 */
const REDACT_MARGIN = 4096;
const KEEP_CHARS = MAX_LINE_CHARS + REDACT_MARGIN;

/**
 * Splits a child's output into lines as it arrives, redacts each, cuts overlong ones, hands each to `onLine` and keeps
 * only the last few: memory stays flat whether the child prints ten lines or two million, or one line of a gigabyte.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  /** Per stream: the start of the line being read (at most KEEP_CHARS), and how much of it was dropped beyond that. */
  private readonly carry = new Map<string, { text: string; dropped: number }>();

  constructor(private readonly redactor: Redactor, private readonly onLine?: (line: string) => void) {}

  push(stream: string, chunk: string): void {
    const state = this.carry.get(stream) ?? { text: '', dropped: 0 };
    let start = 0;
    let newline = chunk.indexOf('\n');
    while (newline !== -1) {
      this.take(state, chunk.slice(start, newline));
      this.emit(state.text, state.dropped);
      state.text = '';
      state.dropped = 0;
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    // A line without an end yet: keep its start, count the rest, and print it once, when it ends.
    this.take(state, chunk.slice(start));
    this.carry.set(stream, state);
  }

  /** The unterminated last lines, once the child has exited. */
  flush(): void {
    for (const state of this.carry.values()) if (state.text || state.dropped) this.emit(state.text, state.dropped);
    this.carry.clear();
  }

  /** The last lines, redacted, at most MAX_TAIL_CHARS. */
  text(): string {
    const joined = this.lines.join('\n');
    return joined.length > MAX_TAIL_CHARS ? joined.slice(-MAX_TAIL_CHARS) : joined;
  }

  private take(state: { text: string; dropped: number }, piece: string): void {
    const room = KEEP_CHARS - state.text.length;
    if (piece.length <= room) {
      state.text += piece;
      return;
    }
    state.text += piece.slice(0, Math.max(room, 0));
    state.dropped += piece.length - Math.max(room, 0);
  }

  private emit(raw: string, dropped: number): void {
    // Redact first, then cut: a cut through a secret would otherwise print its first characters.
    const redacted = this.redactor.redact(raw.replace(/\r$/, ''));
    const cut = redacted.length - MAX_LINE_CHARS + dropped;
    const line = redacted.length > MAX_LINE_CHARS || dropped > 0
      ? `${redacted.slice(0, MAX_LINE_CHARS)} … [${Math.max(cut, dropped)} characters cut]` : redacted;
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.onLine?.(line);
  }
}
