import yargs from 'yargs';
import { OPTIONS, parseBoolean, type ConfigInput, type OptionKey } from '../config/options.js';
import { usageError } from '../errors.js';
import { omMigrateVersion } from '../version.js';
import type { CommandInput } from './commands/CommandSpec.js';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './exitCodes.js';
import { reportFailure } from './failure.js';
import { createOutput, Output } from './output.js';
import { scrubCommandLine } from './scrubCommandLine.js';
import { withCommandOptions } from './options.js';

/** Parses the arguments, runs one command, and returns the exit status; never exits itself. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  scrubCommandLine(args);
  // Before parsing, so that a usage error is reported the way the caller asked (--json, or OM_MIGRATE_JSON=1).
  const envFlag = (name: string) => parseBoolean(env[name] ?? '', name) === true;
  let out: Output = createOutput({
    json: args.includes('--json') || (!args.includes('--no-json') && envFlag('OM_MIGRATE_JSON')),
    verbose: args.includes('--verbose') || envFlag('OM_MIGRATE_VERBOSE'),
  });
  let invoked = 'om-migrate';
  let exitCode: number = EXIT.OK;
  const parser = yargs(args)
    .scriptName('om-migrate')
    // What follows -- is the entrypoint's wrapped command, kept apart in argv['--'] rather than mixed into argv._.
    .parserConfiguration({ 'populate--': true })
    .usage('$0 <command> [options]\n\nSafe OpenMetadata upgrades: preflight gates, verified backups, parameters always put back.')
    .strict()
    .demandCommand(1, `Name a command: ${COMMANDS.map((c) => c.command.split(' ')[0]).join(', ')}.`)
    .version(omMigrateVersion())
    .help()
    // A terminal that reports 0 columns (docker, kubectl and CI pseudo-terminals) must not make help unreadable.
    .wrap(Math.min(120, (process.stdout.columns ?? 0) >= 40 ? process.stdout.columns! : 120))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? usageError(message, 'Run om-migrate --help for the commands and their options.');
    });
  // yargs renders the invoked command's whole help text before running it, in case the handler shows help later
  // (string-width over every option: 0.2-0.5 s of CPU on this machine before a backup's dump tool even starts). Our
  // handlers never show help (failures throw; --help is answered without running a handler, rendered when asked).
  const usage = (parser as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
    .getInternalMethods().getUsageInstance();
  usage.cacheHelpMessage = () => undefined;
  const named = new Set(args);
  for (const entry of COMMANDS) {
    const name = entry.command.split(' ')[0];
    if (!named.has(name)) {
      // Listed for --help only; a command that is not invoked never runs, so its module is never loaded.
      parser.command(entry.command, entry.describe);
      continue;
    }
    const command = await entry.load();
    parser.command(entry.command, entry.describe, (y) => withCommandOptions(y, command.name), async (argv) => {
      invoked = command.name;
      const rest = (argv['--'] as unknown[] | undefined) ?? [];
      if (command.name !== 'entrypoint' && rest.length > 0) {
        throw usageError(`${entry.command} takes no command after --: ${rest.join(' ')}`,
          'Only om-migrate entrypoint runs a command after --.');
      }
      const input = commandInput(argv as Record<string, unknown>);
      out = createOutput({
        json: input.json ?? envFlag('OM_MIGRATE_JSON'),
        verbose: input.verbose ?? envFlag('OM_MIGRATE_VERBOSE'),
      });
      exitCode = await command.run(input, out);
    });
  }
  try {
    await parser.parseAsync();
  } catch (error) {
    return reportFailure(error, out, invoked);
  }
  return exitCode;
}

/** The parsed arguments, typed by the option table: only its keys (and the wrapped command) pass. */
function commandInput(argv: Record<string, unknown>): CommandInput {
  const input: ConfigInput = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    if (argv[key] !== undefined) (input as Record<string, unknown>)[key] = argv[key];
  }
  return {
    ...input,
    ...(Array.isArray(argv['--']) ? { '--': (argv['--'] as unknown[]).map(String) } : {}),
    ...(Array.isArray(argv.command) ? { command: (argv.command as unknown[]).map(String) } : {}),
  };
}
