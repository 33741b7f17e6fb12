import { isOmMigrateError } from '../errors.js';
import { EXIT, EXIT_FOR_CODE } from './exitCodes.js';
import type { JsonEnvelope, Output } from './output.js';

/**
 * The one place an error becomes what the operator sees: a one-line message, a one-line hint, and an exit status.
 * A stack trace only with --verbose.
 */
export function reportFailure(error: unknown, out: Output, command = 'om-migrate'): number {
  if (isOmMigrateError(error)) {
    const exitCode = EXIT_FOR_CODE[error.code];
    if (out.json) {
      out.printJson({ ok: false, exitCode, command, error: { code: error.code, message: error.message, hint: error.hint, details: error.details } } satisfies JsonEnvelope);
    } else {
      out.error(`om-migrate: ${error.message}`);
      if (error.hint) out.error(`  fix: ${error.hint}`);
    }
    if (out.verbose && error.cause) out.error(String((error.cause as Error).stack ?? error.cause));
    return exitCode;
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (out.json) {
    out.printJson({ ok: false, exitCode: EXIT.INTERNAL, command, error: { code: 'INTERNAL', message } } satisfies JsonEnvelope);
  } else {
    out.error(`om-migrate: unexpected error: ${message}`);
    out.error('  fix: run again with --verbose and report the stack trace; nothing after the failing step was done.');
  }
  if (out.verbose && error instanceof Error) out.error(String(error.stack));
  return EXIT.INTERNAL;
}
