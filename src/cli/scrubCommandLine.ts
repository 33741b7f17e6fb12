import { NO_SECRETS } from '../process/redact.js';

/**
 * Hides the password of any URL given on the command line (`--admin-url mysql://root:pw@…`) from `ps` and
 * /proc/<pid>/cmdline, as soon as om-migrate starts: `entrypoint` stays the server's parent for months, and the server
 * runs as the same user. Node's process.title rewrites the memory the kernel shows as the command line (up to its
 * original length), so the new title, shorter, replaces it whole. What came before this line ran was visible for a
 * moment: the file forms (--admin-url-file) never are.
 */
export function scrubCommandLine(args: string[]): void {
  const scrubbed = args.map((arg) => NO_SECRETS.redact(arg));
  if (scrubbed.every((arg, i) => arg === args[i])) return;
  process.title = ['om-migrate', ...scrubbed].join(' ');
}
