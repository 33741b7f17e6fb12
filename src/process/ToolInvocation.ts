/**
 * One run of a stock tool. The password reaches it through `env` (PGPASSWORD) or a 0600 option file in a private
 * run directory named in the arguments, never as an argument itself, so `ps` and /proc/<pid>/cmdline never show it.
 * Names (databases, users, hosts) are passed so that no tool can read them as options or connection strings.
 */
export interface ToolInvocation {
  /** The program (absolute path) and its arguments. */
  argv: string[];
  /** Set over the tool's minimal environment (childEnvironment, 'tool-basics'); may hold the secret, so never shown. */
  env: Record<string, string>;
  /** The command line as it may be stored or printed: no secret, temporary file paths replaced by placeholders. */
  display: string[];
  /** Removes what the invocation created for its secret (the option file). Safe to call twice. */
  dispose(): void;
}
