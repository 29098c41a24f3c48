// Bundles each entry point into one file for a fast start, and transpiles
// sources and tests one-to-one into .build/ for the unit test runner.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';


const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const define = { STEWARD_VERSION: JSON.stringify(version) };

const entries = {
  'steward-init': 'src/init/main.ts',
  steward: 'src/cli/main.ts',
  's6-tool': 'src/cli/s6/main.ts',
  // What bin/ runs the others with (a V8 code cache when there is one).
  load: 'src/loader/code-cache.ts',
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

rmSync('dist', { recursive: true, force: true });
rmSync('.build', { recursive: true, force: true });

// CommonJS, not ESM: Node's ESM loader adds several milliseconds to every start,
// which PID 1 and every CLI call pay. import.meta.url keeps working through a
// variable the banner defines.
await build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // import() of a built-in becomes require(): the bundles run as plain scripts (vm.Script).
  supported: { 'dynamic-import': false },
  // The first line names this build, for the code cache (src/loader/code-cache.ts).
  banner: { js: `// steward build ${randomUUID()}\nconst importMetaUrl = require("node:url").pathToFileURL(__filename).href;` },
  // koffi ships native binaries; it is loaded lazily from node_modules.
  external: ['koffi'],
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { ...define, 'import.meta.url': 'importMetaUrl' },
});

await build({
  entryPoints: [...walk('src'), ...walk('test')],
  outdir: '.build',
  outbase: '.',
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
  define,
});

// A failed warm-up only costs start-up time: the bundles run without a cache. The warm-up is
// the one `steward install` runs for an image's own Node, from the sources just transpiled.
const { writeCodeCaches } = await import('../.build/src/cli/code-cache-warm-up.js');
const problem = writeCodeCaches(resolve(import.meta.dirname, '..'));
if (problem !== undefined) console.warn(`build: no code cache for the bundles: ${problem}`);
