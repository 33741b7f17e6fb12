import { printable, type Output } from './output.js';

/** A spinner line on a TTY (ora, on stderr); nothing at all otherwise, so logs and --json stay clean. */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

const SILENT: Progress = { update: () => undefined, succeed: () => undefined, fail: () => undefined };

/**
 * A spinner only on a terminal that says how wide it is: docker, kubectl and CI give pseudo-terminals of 0 columns,
 * on which a spinner's line wrapping never ends (4 GB of escape codes, the event loop too busy for SIGTERM).
 */
export function spinnerTerminal(out: Output): boolean {
  const columns = process.stderr.columns ?? 0;
  return out.isTTY && !out.json && Boolean(process.stderr.isTTY) && columns >= 20;
}

export async function startProgress(out: Output, text: string): Promise<Progress> {
  if (!spinnerTerminal(out)) return SILENT;
  // Loaded only when a spinner will actually be shown.
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return {
    update: (t) => { spinner.text = printable(t); },
    succeed: (t) => { spinner.succeed(printable(t)); },
    fail: (t) => { spinner.fail(printable(t)); },
  };
}

/**
 * A run's phases, one after another: on a TTY one spinner whose finished phases stay on screen with a tick; otherwise
 * plain "om-migrate: …" lines on stdout (container logs), or nothing with --json. Lines a phase produces (a
 * migrator's output) go to stderr, around the spinner.
 */
export interface PhaseReporter {
  phase(text: string): void;
  update(text: string): void;
  log(line: string): void;
  /** Ends the current phase as done or failed, with its final text. */
  end(ok: boolean, text: string): void;
}

export async function startPhases(out: Output): Promise<PhaseReporter> {
  if (!spinnerTerminal(out)) {
    return {
      phase: (text) => { if (!out.json) out.line(`om-migrate: ${text}`); },
      update: () => undefined,
      log: (line) => { process.stderr.write(`  ${printable(line)}\n`); },
      end: (_ok, text) => { if (!out.json) out.line(`om-migrate: ${text}`); },
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr });
  let current: string | undefined;
  return {
    phase(text) {
      if (current !== undefined) spinner.succeed(current);
      current = printable(text);
      spinner.start(current);
    },
    update(text) {
      spinner.text = printable(text);
    },
    log(line) {
      spinner.clear();
      process.stderr.write(`  ${printable(line)}\n`);
      if (current !== undefined) spinner.render();
    },
    end(ok, text) {
      if (ok) spinner.succeed(printable(text));
      else spinner.fail(printable(text));
      current = undefined;
    },
  };
}
