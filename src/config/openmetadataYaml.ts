import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { configError } from '../errors.js';

/** The `database:` block of conf/openmetadata.yaml after `${NAME:-default}` substitution. */
export interface OpenMetadataYamlDatabase {
  driverClass?: string;
  user?: string;
  password?: string;
  url?: string;
}

/**
 * Dropwizard substitutes environment variables in the raw text before parsing the YAML, so we do the same:
 * `${NAME}` and `${NAME:-default}`; an unset name without a default is an error, as it is for the server.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv, source: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_all, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw configError(
      `${source} uses \${${name}} but ${name} is not set and has no default`,
      `Set ${name} in the environment, or write \${${name}:-value} in the file.`,
    );
  });
}

export function readOpenMetadataYaml(path: string, env: NodeJS.ProcessEnv): OpenMetadataYamlDatabase {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(`cannot read --config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'Pass the path of conf/openmetadata.yaml, readable by this user.', error);
  }
  const text = substituteEnv(raw, env, path);
  // Loaded only when --config is given: most runs configure through the environment and need no YAML parser.
  const { parse: parseYaml, YAMLParseError } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
    // No cause attached: the parser's full message quotes the substituted text, which may hold a password from the
    // environment, and --verbose would print it.
    throw configError(`${path} is not valid YAML${where}: ${firstLine((error as Error).message)}`,
      'Fix the file, or give the connection with flags or DB_* environment variables instead.');
  }
  const database = (document as { database?: unknown } | null)?.database;
  if (database === undefined || database === null || typeof database !== 'object' || Array.isArray(database)) {
    throw configError(`${path} has no "database:" block`, 'Point --config at OpenMetadata\'s conf/openmetadata.yaml.');
  }
  const block = database as Record<string, unknown>;
  const pick = (key: string) => (block[key] === undefined || block[key] === null ? undefined : String(block[key]));
  return { driverClass: pick('driverClass'), user: pick('user'), password: pick('password'), url: pick('url') };
}

/** The yaml library's first line repeats the position and ends with a colon before a code excerpt. */
function firstLine(text: string): string {
  return text.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}
