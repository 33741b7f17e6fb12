import type { CommandResults, CommandWithResult, JsonEnvelope } from '../api/results.js';
/** Writing to the terminal: colour only on a TTY and never with NO_COLOR; JSON always on stdout, one document. */
export interface Output {
  json: boolean;
  verbose: boolean;
  color: boolean;
  isTTY: boolean;
  line(text?: string): void;
  error(text: string): void;
  printJson(value: unknown): void;
  /**
   * A command's outcome, once: with --json the one envelope every command prints ({ ok, exitCode, command, result }),
   * otherwise `render` writes the human form.
   */
  result<C extends CommandWithResult>(command: C, exitCode: number, result: CommandResults[C], render: () => void): void;
}

export type { JsonEnvelope } from '../api/results.js';

export function createOutput(options: { json: boolean; verbose: boolean }): Output {
  const isTTY = Boolean(process.stdout.isTTY);
  const color = isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
  return {
    ...options,
    color,
    isTTY,
    line(text = '') {
      process.stdout.write(`${printable(text, color)}\n`);
    },
    error(text) {
      process.stderr.write(`${printable(text, color)}\n`);
    },
    printJson(value) {
      // JSON.stringify escapes C0 controls but leaves DEL, C1 (U+009B is CSI on many terminals) and bidi overrides.
      process.stdout.write(`${JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
    },
    result(command, exitCode, result, render) {
      if (this.json) this.printJson({ ok: exitCode === 0, exitCode, command, result } as JsonEnvelope);
      else render();
    },
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/**
 * What a terminal acts on rather than shows: C0 controls but newline and tab (ESC starts CSI and OSC sequences — clear
 * the screen, set the title, a hyperlink —, BEL, CR overwrites a line), DEL, C1 controls (U+009B is CSI by itself), and
 * the bidirectional overrides that reorder what is shown.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** Exactly the sequences paint() writes: with colour on, they are the only escapes that reach the terminal. */
const OWN_SGR = new RegExp(`(\u001b\\[(?:0|${Object.values(CODES).join('|')})m)`);

/**
 * Text as it may reach a terminal: every control character it would act on written out (`\x1b`, `\u009b`), so a table
 * name, a migrator's line or a driver's message can neither move the cursor, set the title, hide text nor fake a line.
 * Output.line and Output.error apply it to everything they print; with colour on, paint()'s own codes pass.
 */
export function printable(text: string, keepOwnColour = false): string {
  const escape = (part: string) => part.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  if (!keepOwnColour) return escape(text);
  return text.split(OWN_SGR).map((part, i) => (i % 2 === 1 ? part : escape(part))).join('');
}

export function paint(out: Output, colour: keyof typeof CODES, text: string): string {
  return out.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
