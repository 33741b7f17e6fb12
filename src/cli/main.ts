#!/usr/bin/env node
/**
 * The entry point. `--version` is answered before anything else is loaded, so it starts as fast as bare Node;
 * everything else loads the command framework on demand. This is the only place the process exits.
 */
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { omMigrateVersion } = await import('../version.js');
  process.stdout.write(`${omMigrateVersion()}\n`);
  process.exit(0);
} else {
  const { runCli } = await import('./runCli.js');
  process.exit(await runCli(args));
}
