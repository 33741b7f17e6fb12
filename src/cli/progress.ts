import type { Output } from './output.js';

/** A spinner line on a TTY (ora, on stderr); nothing at all otherwise, so logs and --json stay clean. */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

const SILENT: Progress = { update: () => undefined, succeed: () => undefined, fail: () => undefined };

export async function startProgress(out: Output, text: string): Promise<Progress> {
  if (!out.isTTY || out.json || !process.stderr.isTTY) return SILENT;
  // Loaded only when a spinner will actually be shown.
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return {
    update: (t) => { spinner.text = t; },
    succeed: (t) => { spinner.succeed(t); },
    fail: (t) => { spinner.fail(t); },
  };
}
