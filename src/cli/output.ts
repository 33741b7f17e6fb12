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
      process.stdout.write(`${text}\n`);
    },
    error(text) {
      process.stderr.write(`${text}\n`);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    result(command, exitCode, result, render) {
      if (this.json) this.printJson({ ok: exitCode === 0, exitCode, command, result } as JsonEnvelope);
      else render();
    },
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export function paint(out: Output, colour: keyof typeof CODES, text: string): string {
  return out.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
