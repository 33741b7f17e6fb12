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

describe('layout', () => {
  it('has no import cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const file of FILES) {
      for (const path of relativeImports(readFileSync(file, 'utf8'))) {
        const from = roomOf(file);
        const to = roomOf(resolve(dirname(file), path));
        if (from === to) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
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
