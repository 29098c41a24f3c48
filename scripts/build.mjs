// Bundles each entry point into one file for a fast start, and transpiles
// sources and tests one-to-one into .build/ for the unit test runner.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const define = { STEWARD_VERSION: JSON.stringify(version) };

const entries = {
  'steward-init': 'src/init/main.ts',
  steward: 'src/cli/main.ts',
  's6-tool': 'src/cli/s6/main.ts',
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

rmSync('dist', { recursive: true, force: true });
rmSync('.build', { recursive: true, force: true });

await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // koffi ships native binaries; it is loaded lazily from node_modules.
  external: ['koffi'],
  sourcemap: 'linked',
  logLevel: 'warning',
  define,
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
