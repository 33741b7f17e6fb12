#!/usr/bin/env node
import { readFileSync } from 'node:fs';

/**
 * The entry point. `--version` is answered before anything else is loaded, so it starts as fast as bare Node;
 * everything else loads the command framework on demand. This is the only place the process exits.
 */
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
} else {
  const { runCli } = await import('./runCli.js');
  process.exit(await runCli(args));
}
