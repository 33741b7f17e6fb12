/**
 * Finds every pg_dump / pg_restore this machine has — an explicit directory (--pg-bin-dir, OM_MIGRATE_PG_BIN_DIR),
 * PATH, and Debian/Ubuntu's side-by-side installs under /usr/lib/postgresql/<major>/bin — asks each for its version,
 * and picks the newest one whose major is not older than the server's (pg_dump refuses a newer server: "aborting
 * because of server version mismatch"; pg_restore cannot read an archive from a newer pg_dump).
 *
 * An explicit directory is the operator's choice: when given, a qualifying tool there wins, and when it holds none
 * the result blocks naming it instead of silently taking another one.
 */
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { toolVersionText } from '../../process/findExecutable.js';
import type { Environment } from '../../process/childEnv.js';

export type PgToolName = 'pg_dump' | 'pg_restore';
export type PgToolSource = 'pg-bin-dir' | 'PATH' | 'debian';

export interface PgToolCandidate {
  path: string;
  /** Where it was found (the first source wins for a binary found several times). */
  source: PgToolSource;
  /** The --version line, or undefined when it did not run. */
  versionText: string | undefined;
  major: number | undefined;
  /** "15.20", "17.2", "18beta1" — for messages. */
  version: string | undefined;
  /**
   * Debian's pg_wrapper (/usr/bin/pg_dump → /usr/share/postgresql-common/pg_wrapper): it runs one of the versioned
   * binaries, chosen by PGCLUSTER, ~/.postgresqlrc, a local cluster or the newest installed; on equal majors the
   * versioned binary itself is preferred, its version does not depend on the environment.
   */
  wrapper: boolean;
}

export interface PgToolSearch {
  /** --pg-bin-dir, as resolved (config.pgBinDir): the environment is not read for it here. */
  binDir?: string;
  env: Environment;
  /** Root of Debian's versioned installs (default /usr/lib/postgresql); null to skip it. */
  debianRoot?: string | null;
  /** How a candidate's --version is read (tests inject it); default runs `<path> --version`. */
  versionOf?: (path: string, env: Environment) => string | undefined;
}

export interface PgToolChoice {
  tool: PgToolName;
  /** The major the chosen tool must reach. */
  neededMajor: number;
  chosen: PgToolCandidate | undefined;
  /** Everything found, in search order. */
  candidates: PgToolCandidate[];
  /** Set when nothing qualifies: one sentence, and the fix. */
  problem?: string;
  fix?: string;
}

/** "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → 15; "9.6.24" → 9; "18beta1" → 18. */
export function parsePgToolVersion(text: string | undefined): { major: number; version: string } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)((?:\.\d+)*(?:(?:alpha|beta|rc|devel)\d*)?)/.exec(text ?? '')
    ?? /^\S+\s+(\d+)((?:\.\d+)*(?:(?:alpha|beta|rc|devel)\d*)?)/.exec(text ?? '');
  if (!m) return undefined;
  return { major: Number(m[1]), version: `${m[1]}${m[2]}` };
}

export function defaultVersionOf(path: string, env: Environment): string | undefined {
  return toolVersionText(path, env) || undefined;
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian's versioned bin directories, newest first (numeric: 9.6 sorts below 15). */
function debianBinDirs(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+(\.\d+)?$/.test(e)).sort((a, b) => Number(b) - Number(a)).map((e) => join(root, e, 'bin'));
}

/** Every `tool` found, in search order (bin dir, PATH, Debian), one entry per real file. */
export function discoverPgTools(tool: PgToolName, search: PgToolSearch): PgToolCandidate[] {
  const env = search.env;
  // --pg-bin-dir comes resolved (config.pgBinDir), never from the environment here: one place reads configuration.
  const binDir = search.binDir;
  const versionOf = search.versionOf ?? defaultVersionOf;
  const places: Array<[string, PgToolSource]> = [];
  if (binDir) places.push([binDir, 'pg-bin-dir']);
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) places.push([dir, 'PATH']);
  const root = search.debianRoot === undefined ? '/usr/lib/postgresql' : search.debianRoot;
  if (root) for (const dir of debianBinDirs(root)) places.push([dir, 'debian']);

  const seen = new Set<string>();
  const found: PgToolCandidate[] = [];
  for (const [dir, source] of places) {
    const path = join(dir, tool);
    if (!executable(path)) continue;
    // One entry per binary, however many directories or symlinks lead to it. Debian's /usr/bin/pg_dump is
    // pg_wrapper, a different file that runs one of the versioned binaries: it stays a candidate of its own.
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const versionText = versionOf(path, env);
    const parsed = parsePgToolVersion(versionText);
    found.push({ path, source, versionText, major: parsed?.major, version: parsed?.version, wrapper: /(^|\/)pg_wrapper$/.test(real) });
  }
  return found;
}

function describe(c: PgToolCandidate): string {
  return `${c.path} (${c.version ?? 'does not run'})`;
}

/**
 * The newest candidate of at least `neededMajor` (ties: a real binary before pg_wrapper, then search order), an
 * explicit directory's first.
 * `neededMajor` is the server's major for pg_dump; for pg_restore the larger of the target server's major and the
 * major of the pg_dump that wrote the archive.
 */
export function choosePgTool(tool: PgToolName, neededMajor: number, candidates: PgToolCandidate[],
  options: { explicitDir?: string; serverMajor?: number } = {}): PgToolChoice {
  const serverMajor = options.serverMajor ?? neededMajor;
  const base = { tool, neededMajor, candidates };
  const qualifying = (list: PgToolCandidate[]) => list
    .filter((c) => c.major !== undefined && c.major >= neededMajor)
    // Newest major first; on a tie a real binary before pg_wrapper, then search order (sort is stable).
    .sort((a, b) => (b.major as number) - (a.major as number) || Number(a.wrapper) - Number(b.wrapper));
  const install = `install postgresql-client-${neededMajor} (Debian/Ubuntu: from the PostgreSQL apt repository; RHEL: postgresql${neededMajor})`;
  const verb = tool === 'pg_dump' ? `dump a PostgreSQL ${serverMajor} server` : neededMajor > serverMajor
    ? `read an archive written by pg_dump ${neededMajor}` : `restore into a PostgreSQL ${serverMajor} server`;

  if (options.explicitDir) {
    const own = candidates.filter((c) => c.source === 'pg-bin-dir');
    const best = qualifying(own)[0];
    if (best) return { ...base, chosen: best };
    return {
      ...base, chosen: undefined,
      problem: own.length === 0
        ? `--pg-bin-dir ${options.explicitDir} holds no runnable ${tool}`
        : `${tool} ${own[0].version ?? '(does not run)'} in --pg-bin-dir ${options.explicitDir} cannot ${verb}`,
      fix: `Point --pg-bin-dir (OM_MIGRATE_PG_BIN_DIR) at the bin directory of PostgreSQL ${neededMajor} or newer client tools, or ${install}.`,
    };
  }

  const best = qualifying(candidates)[0];
  if (best) return { ...base, chosen: best };
  const runnable = candidates.filter((c) => c.major !== undefined).sort((a, b) => (b.major as number) - (a.major as number));
  return {
    ...base, chosen: undefined,
    problem: runnable.length === 0
      ? `no ${tool} found (searched PATH and /usr/lib/postgresql/*/bin)${candidates.length ? `; found but not runnable: ${candidates.map(describe).join(', ')}` : ''}`
      : `${tool} ${runnable[0].major} cannot ${verb}${candidates.length > 1 ? ` (found: ${candidates.map(describe).join(', ')})` : ''}`,
    fix: `${install[0].toUpperCase()}${install.slice(1)}, or point --pg-bin-dir (OM_MIGRATE_PG_BIN_DIR) at a directory holding ${tool} ${neededMajor} or newer.`,
  };
}

/** discoverPgTools + choosePgTool for a server of `serverMajor` (pg_restore: and an archive of `archiveMajor`). */
export function locatePgTool(tool: PgToolName, serverMajor: number, search: PgToolSearch,
  archiveMajor?: number): PgToolChoice {
  const explicitDir = search.binDir;
  const candidates = discoverPgTools(tool, search);
  return choosePgTool(tool, Math.max(serverMajor, archiveMajor ?? 0), candidates, { explicitDir, serverMajor });
}

/**
 * pg_restore for a chosen pg_dump: the one beside it when that one qualifies (the same installation), else the
 * best one found.
 */
export function locatePgRestoreFor(dump: PgToolCandidate, serverMajor: number, search: PgToolSearch): PgToolChoice {
  const env = search.env;
  const dir = dump.path.slice(0, dump.path.lastIndexOf('/'));
  const beside = discoverPgTools('pg_restore', { ...search, binDir: dir, env: { ...env, PATH: '' }, debianRoot: null })[0];
  const needed = Math.max(serverMajor, dump.major ?? 0);
  if (beside?.major !== undefined && beside.major >= needed) {
    return { tool: 'pg_restore', neededMajor: needed, chosen: beside, candidates: [beside] };
  }
  return locatePgTool('pg_restore', serverMajor, search, dump.major);
}
