import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, next to this file's compiled form (dist/test/helpers). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The inherited environment without anything that would configure a run behind the test's back. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(DB_|AIRFLOW_|AIRFLOW__|OM_MIGRATE_|OM_DATABASE$|NODE_TEST|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs the built CLI with exactly `env` (see cleanEnv) and collects its output. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(options.env), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A spec as a URL for --admin-url / --airflow-url (password percent-encoded). */
export function specUrl(spec: { engine: string; user: string; password?: string; host: string; port: number; database: string }, scheme?: string): string {
  const auth = spec.password ? `${encodeURIComponent(spec.user)}:${encodeURIComponent(spec.password)}` : encodeURIComponent(spec.user);
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${scheme ?? (spec.engine === 'mysql' ? 'mysql' : 'postgresql')}://${auth}@${host}:${spec.port}/${spec.database}`;
}

/** Flags for the OpenMetadata database from a spec; the password goes through DB_USER_PASSWORD, never argv. */
export function omArgs(spec: { engine: string; user: string; password?: string; host: string; port: number; database: string }): {
  args: string[]; env: Record<string, string>;
} {
  return {
    args: ['--db-scheme', spec.engine === 'mysql' ? 'mysql' : 'postgresql', '--db-host', spec.host, '--db-port', String(spec.port),
      '--db-user', spec.user, '--database', spec.database],
    env: spec.password ? { DB_USER_PASSWORD: spec.password } : {},
  };
}
