import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layout is the architecture: no folder imports one that imports it back (src/<room>, preflight/, migrations/;
 * a file directly under src/ counts as a room of its own), and all SQL stays in src/dialects.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function roomOf(file: string): string {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] !== 'src') return parts[0];
  return parts.length > 2 ? `src/${parts[1]}` : `src/${parts[1].replace(/\.ts$/, '')}`;
}

const FILES = ['src', 'preflight', 'migrations'].flatMap((d) => sources(join(ROOT, d)));

/** Every relative module a file loads: `import … from`, `export … from`, a side-effect `import '…'`, and `import('…')`. */
export function relativeImports(text: string): string[] {
  const patterns = [/(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g, /^\s*import\s+'(\.[^']+)'/gm, /\bimport\(\s*'(\.[^']+)'\s*\)/g];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1]));
}

/** Every import between source files, as paths from the repository root (`src/config/options.ts` → `src/errors.ts`). */
const IMPORTS = FILES.flatMap((file) => relativeImports(readFileSync(file, 'utf8'))
  .map((path) => ({ from: relative(ROOT, file), to: relative(ROOT, resolve(dirname(file), path)).replace(/\.js$/, '.ts') })));

/** The imports from files under `from` into files under `to` (folders end with a slash), as "from → to" lines. */
function importsBetween(from: string, to: string): string[] {
  return IMPORTS.filter((i) => i.from.startsWith(from) && i.to.startsWith(to)).map((i) => `${i.from} → ${i.to}`);
}

describe('layout', () => {
  it('has no import cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from: fromFile, to: toFile } of IMPORTS) {
      const from = roomOf(join(ROOT, fromFile));
      const to = roomOf(join(ROOT, toFile));
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
    const cycles: string[] = [];
    const visit = (room: string, path: string[]): void => {
      if (path.includes(room)) {
        cycles.push([...path.slice(path.indexOf(room)), room].join(' → '));
        return;
      }
      for (const next of edges.get(room) ?? []) visit(next, [...path, room]);
    };
    for (const room of edges.keys()) visit(room, []);
    assert.deepEqual(cycles, []);
  });

  // Rooms (issue 23, point 6). src/config holds configuration only (options, the resolver, URLs, secrets, units); what
  // om-migrate knows of OpenMetadata (releases, upgrade notes, version numbers) and of Airflow (its revisions) lives in
  // src/openmetadata and src/airflow, which may read the configuration but are never read by it.
  it('keeps src/config free of OpenMetadata and Airflow knowledge', () => {
    assert.deepEqual([...importsBetween('src/config/', 'src/openmetadata/'), ...importsBetween('src/config/', 'src/airflow/')], []);
    const knowledge: Record<string, string> = {
      KNOWN_RELEASES: 'src/openmetadata/', UPGRADE_NOTES: 'src/openmetadata/', currentOpenMetadataVersion: 'src/openmetadata/',
      AIRFLOW_REVISIONS: 'src/airflow/',
    };
    const where = Object.entries(knowledge).map(([name, room]) => ({ name, room, files: FILES
      .filter((f) => new RegExp(`export (const|function) ${name}\\b`).test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f)) }));
    assert.deepEqual(where.filter((w) => w.files.length === 0).map((w) => w.name), [], 'renamed? say where it went');
    assert.deepEqual(where.flatMap((w) => w.files.filter((f) => !f.startsWith(w.room)).map((f) => `${w.name} in ${f}, not ${w.room}`)), []);
  });

  // The command entry points apart from the run engine: src/api holds one file per command the CLI calls (and the
  // types of their results); src/engine is what the commands share and never reaches back up into a command; the CLI
  // talks to the commands only.
  it('keeps the run engine below the commands, and the CLI on the commands', () => {
    assert.deepEqual(importsBetween('src/engine/', 'src/api/'), []);
    assert.deepEqual(importsBetween('src/cli/', 'src/engine/'), []);
    const called = new Set(IMPORTS.filter((i) => i.from.startsWith('src/cli/')).map((i) => i.to));
    const notCalled = FILES.map((f) => relative(ROOT, f)).filter((f) => f.startsWith('src/api/') && !called.has(f));
    assert.deepEqual(notCalled, [], 'a file in src/api that no command of the CLI imports belongs in src/engine');
  });

  // Gates and steps depend on the contracts only: src/core (their context hands them OpenMetadata's and Airflow's
  // knowledge and the run's services, src/core/Tools.ts) and the typed errors. Their own folder's files they may share.
  it('lets gates and steps import only src/core and src/errors.ts', () => {
    const allowed = (to: string) => to.startsWith('src/core/') || to === 'src/errors.ts' || to.startsWith('preflight/') || to.startsWith('migrations/');
    const outside = IMPORTS.filter((i) => i.from.startsWith('preflight/') || i.from.startsWith('migrations/'))
      .filter((i) => !allowed(i.to)).map((i) => `${i.from} → ${i.to}`);
    assert.deepEqual(outside, [], 'hand the gate or step what it needs through its context (src/core/Tools.ts) instead');
    assert.ok(IMPORTS.some((i) => i.from === 'preflight/versionsGate.ts' && i.to === 'src/core/Gate.ts'), 'the imports of gates are seen');
    assert.ok(IMPORTS.some((i) => i.from === 'migrations/openmetadata/serverMigrate.ts' && i.to === 'src/core/Step.ts'), 'and of steps in sub-folders');
  });

  it('sees static, side-effect and dynamic imports', () => {
    const text = "import { a } from './a.js';\nimport './b.js';\nconst { c } = await import('./c.js');\nexport type { D } from '../d.js';\n";
    assert.deepEqual(relativeImports(text).sort(), ['../d.js', './a.js', './b.js', './c.js']);
  });

  it('keeps SQL statements in src/dialects', () => {
    const outside = FILES.filter((f) => !relative(ROOT, f).startsWith('src/dialects/'))
      .filter((f) => /knex\.raw\(|\.raw\(\s*[`'"](SELECT|UPDATE|DELETE|INSERT|ALTER|CREATE|DROP|SET)\b/i.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    assert.deepEqual(outside, []);
  });
});
