/**
 * om-migrate's own settings, among them the admin URLs with root's password: no child needs them and none may see them
 * (an operator's migrator or URL command, the migrator's plugins, a wrapped server could print or ship its environment).
 * The one filter every child's environment goes through.
 */
export function withoutOwnSecrets(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !name.startsWith('OM_MIGRATE_')) env[name] = value;
  }
  return env;
}
