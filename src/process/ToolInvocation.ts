/**
 * One run of a stock tool. The password reaches it through `env` (PGPASSWORD) or a 0600 option file in a private
 * run directory named in the arguments, never as an argument itself, so `ps` and /proc/<pid>/cmdline never show it.
 * Names (databases, users, hosts) are passed so that no tool can read them as options or connection strings.
 */
export interface ToolInvocation {
  /** The program (absolute path) and its arguments. */
  argv: string[];
  /** Added to the tool's minimal environment (toolEnvironment); may hold the secret, so never shown. */
  env: Record<string, string>;
  /** The command line as it may be stored or printed: no secret, temporary file paths replaced by placeholders. */
  display: string[];
  /** Removes what the invocation created for its secret (the option file). Safe to call twice. */
  dispose(): void;
}

/**
 * What a stock tool inherits from om-migrate's environment: how to find programs, locale and time zone, where to put
 * temporary files, and libpq's TLS settings. Nothing else: om-migrate's own secrets (OM_MIGRATE_ADMIN_URL, the
 * application passwords) never reach a dump or restore tool.
 */
export function toolEnvironment(base: NodeJS.ProcessEnv, invocation: Pick<ToolInvocation, 'env'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'].includes(name) || name.startsWith('LC_') || /^PGSSL(MODE|ROOTCERT|CERT|KEY|CRL)$/.test(name)) {
      env[name] = value;
    }
  }
  return { ...env, ...invocation.env };
}
