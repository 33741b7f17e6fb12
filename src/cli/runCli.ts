import yargs from 'yargs';
import { usageError } from '../errors.js';
import { omMigrateVersion } from '../version.js';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './exitCodes.js';
import { reportFailure } from './failure.js';
import { createOutput, Output } from './output.js';
import { toConfigInput } from './options.js';

/** Parses the arguments, runs one command, and returns the exit status; never exits itself. */
export async function runCli(args: string[]): Promise<number> {
  let out: Output = createOutput({ json: args.includes('--json'), verbose: args.includes('--verbose') });
  let exitCode: number = EXIT.OK;
  const parser = yargs(args)
    .scriptName('om-migrate')
    // What follows -- is the entrypoint's wrapped command, kept apart in argv['--'] rather than mixed into argv._.
    .parserConfiguration({ 'populate--': true })
    .usage('$0 <command> [options]\n\nSafe OpenMetadata upgrades: preflight gates, verified backups, parameters always put back.')
    .strict()
    .demandCommand(1, 'Name a command: preflight, up, backup, restore, repair-airflow, status, revert-params, entrypoint.')
    .version(omMigrateVersion())
    .help()
    .wrap(Math.min(120, process.stdout.columns || 120))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? usageError(message, 'Run om-migrate --help for the commands and their options.');
    });
  const named = new Set(args);
  for (const entry of COMMANDS) {
    if (!named.has(entry.command.split(' ')[0])) {
      // Listed for --help only; a command that is not invoked never runs, so its module is never loaded.
      parser.command(entry.command, entry.describe);
      continue;
    }
    const command = await entry.load();
    const takesWrappedCommand = entry.command.startsWith('entrypoint');
    parser.command(entry.command, entry.describe, command.builder, async (argv) => {
      const rest = (argv['--'] as unknown[] | undefined) ?? [];
      if (!takesWrappedCommand && rest.length > 0) {
        throw usageError(`${entry.command} takes no command after --: ${rest.join(' ')}`,
          'Only om-migrate entrypoint runs a command after --.');
      }
      const input = toConfigInput(argv as Record<string, unknown>);
      out = createOutput({ json: Boolean(input.json), verbose: Boolean(input.verbose) });
      exitCode = await command.run(argv as Record<string, unknown>, input, out);
    });
  }
  try {
    await parser.parseAsync();
  } catch (error) {
    return reportFailure(error, out);
  }
  return exitCode;
}
