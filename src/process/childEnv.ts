/**
 * The environment om-migrate was started with, as the configuration resolver received it (RunConfig.env): everything
 * below the CLI is handed this, never process.env, so a library caller decides what om-migrate and its children see.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

declare const built: unique symbol;

/**
 * A child's whole environment, made by childEnvironment only: spawnChild takes nothing else, so no spawn can hand a
 * child om-migrate's environment (and the secrets in it) by a shortcut.
 */
export type ChildEnvironment = Readonly<Record<string, string>> & { readonly [built]: true };

/**
 * What a child inherits of om-migrate's environment:
 * - 'all-but-own': everything except om-migrate's own settings: the migrators, the operator's URL command, the wrapped
 *   server need the operator's whole environment (OpenMetadata's yaml reads the search service, the Fernet key...).
 * - 'tool-basics': a stock tool's minimum: how to find programs, locale and time zone, where to put temporary files,
 *   and libpq's TLS settings; nothing else (the application passwords never reach a dump or restore tool).
 */
export type Inheritance = 'all-but-own' | 'tool-basics';

/**
 * The one way a child's environment is made: what it inherits of `base`, then `set` (the variables this child needs,
 * its password among them) over it. om-migrate's own settings (OM_MIGRATE_*, among them the admin URLs with root's
 * password) are never inherited: no child needs them, and any could print or ship its environment.
 */
export function childEnvironment(base: Environment, inherit: Inheritance, set: Readonly<Record<string, string>> = {}): ChildEnvironment {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || name.startsWith('OM_MIGRATE_')) continue;
    if (inherit === 'all-but-own' || toolBasic(name)) env[name] = value;
  }
  return { ...env, ...set } as ChildEnvironment;
}

function toolBasic(name: string): boolean {
  return ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'].includes(name) || name.startsWith('LC_') || /^PGSSL(MODE|ROOTCERT|CERT|KEY|CRL)$/.test(name);
}
