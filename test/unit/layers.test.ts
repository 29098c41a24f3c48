import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The layers of src/ depend downward only (docs/architecture.md): a module that reaches up makes
 * the lower layer untestable on its own and grows the god objects the design avoids. This
 * reads every import of every source file, so a new upward edge fails here with its file and
 * line, not in a review.
 */

const SRC = resolve(import.meta.dirname, '..', '..', '..', 'src');

/** What each layer may import, besides itself. `base`: errors, diagnostics, the version, util/. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  base: [],
  model: ['base'],
  sys: ['base'],
  loader: ['base', 'sys'],
  execline: ['base', 'model', 'sys'],
  config: ['base', 'model', 'sys', 'execline'],
  supervise: ['base', 'model', 'sys'],
  graph: ['base', 'model'],
  log: ['base', 'sys'],
  control: ['base', 'model', 'sys', 'supervise'],
  init: ['base', 'model', 'sys', 'loader', 'execline', 'config', 'supervise', 'graph', 'log', 'control'],
  cli: ['base', 'model', 'sys', 'loader', 'execline', 'config', 'supervise', 'graph', 'log', 'control', 'init'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  const top = parts[0] ?? '';
  return parts.length === 1 || top === 'util' ? 'base' : top;
}

interface Import {
  readonly specifier: string;
  readonly line: number;
}

/** Static imports and re-exports, import() and require() with a literal specifier. */
function importsOf(text: string): Import[] {
  const found: Import[] = [];
  // Any of the three quotes; the specifier is the last group.
  const quoted = String.raw`(['"\x60])([^'"\x60]+)\1`;
  const patterns = [
    new RegExp(String.raw`\bfrom\s+${quoted}`, 'g'),
    new RegExp(String.raw`\bimport\s*\(\s*${quoted}`, 'g'),
    new RegExp(String.raw`\brequire\w*\s*\(\s*${quoted}`, 'g'),
    new RegExp(String.raw`(?:^|[;}\s])import\s+${quoted}`, 'g'),
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[2];
      if (specifier === undefined) continue;
      found.push({ specifier, line: text.slice(0, match.index).split('\n').length });
    }
  }
  return found;
}

const files = sourceFiles(SRC);

describe('layers of src/', () => {
  it('finds the sources and a layer for each', () => {
    assert.ok(files.length > 100, `only ${files.length} files under ${SRC}`);
    const unknown = [...new Set(files.map(layerOf))].filter((layer) => ALLOWED[layer] === undefined);
    assert.deepEqual(unknown, [], 'a new top-level directory under src/ needs its place in ALLOWED');
  });

  it('imports only from its own layer or the layers below it', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      const allowed = ALLOWED[from] ?? [];
      for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const to = layerOf(resolve(dirname(file), specifier));
        if (to !== from && !allowed.includes(to)) upward.push(`${relative(SRC, file)}:${line} (${from}) imports ${specifier} (${to})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('touches koffi only in sys/, the boundary with the OS', () => {
    const outside = files.flatMap((file) =>
      layerOf(file) === 'sys'
        ? []
        : importsOf(readFileSync(file, 'utf8'))
            .filter(({ specifier }) => specifier === 'koffi' || specifier.startsWith('koffi/'))
            .map(({ line }) => `${relative(SRC, file)}:${line}`),
    );
    assert.deepEqual(outside, []);
  });

  it('sees an upward import when one is there (the check can fail)', () => {
    const imports = importsOf(
      'import type { Thing } from \'../init/main.js\';\nconst k = require(\'koffi\');\nexport * from "../control/x.js";\nconst m = await import(`../cli/y.js`);\nimport \'../log/z.js\';\n',
    );
    assert.deepEqual(imports.map((found) => found.specifier).sort(), ['../cli/y.js', '../control/x.js', '../init/main.js', '../log/z.js', 'koffi']);
    assert.equal(layerOf(resolve(SRC, 'sys', 'ffi', 'x.ts')), 'sys');
    assert.ok(!(ALLOWED['sys'] ?? []).includes(layerOf(resolve(SRC, 'init', 'main.ts'))));
  });
});
