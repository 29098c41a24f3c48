import { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export { holdSignals } from '../sys/held-signals.js';
export { defaultDebuggerSignal } from '../sys/debugger-signal.js';
export { takeNodeOptionsBack } from '../util/node-options.js';

/**
 * Runs a bundle from dist/ with a V8 code cache, when one was made for it: V8 then
 * skips parsing and compiling the functions a boot uses, which is most of the time
 * Steward's own code takes before the first service starts. Without a cache, or with
 * one this Node cannot use, the bundle compiles as require() would compile it.
 *
 * The cache sits next to the bundle (`<bundle>.v8-cache`). It starts with a header
 * line naming the bundle it was made from: V8 itself only checks the source length, so
 * a rebuilt bundle of the same length must not be run with the old cache. The build
 * starts each bundle with a line naming a fresh build id, which is that name; a bundle
 * without one is named by its size and modification time. (The build id, not the time
 * stamp, because npm packs every file with the same fixed time stamp.)
 */

/** The first line of a bundle made by the build. */
const BUILD_LINE = '// steward build ';

/** What happened to the cache: used, refused by V8 (another Node version), or not there. */
export type CacheOutcome = 'used' | 'rejected' | 'stale' | 'none';

export interface LoadedBundle {
  readonly outcome: CacheOutcome;
  /** Runs the bundle's top level, as require() would. */
  run(): void;
  /** Writes a cache holding every function compiled so far (atomically: other runs may read it). */
  writeCache(): void;
}

export function cachePathOf(bundle: string): string {
  return `${bundle}.v8-cache`;
}

/**
 * The header naming the bundle and the Node that made the cache. The Node release too, not only
 * V8's own check: every Node 20 release has the same V8 version, which V8 checks, yet a cache
 * made by one of them crashed another (a segfault of PID 1 before its first line of output),
 * as a package built with one Node 20 runs in an image with another.
 */
function stamp(source: string, size: number, mtimeMs: number): string {
  const buildLine = source.startsWith(BUILD_LINE) ? source.slice(BUILD_LINE.length, source.indexOf('\n')) : '';
  const bundle = buildLine === '' ? `mtime ${Math.trunc(mtimeMs)}` : `build ${buildLine}`;
  return `steward-code-cache ${size} ${bundle} node ${process.version} v8 ${process.versions.v8} ${process.arch}\n`;
}

function readCache(path: string, expected: string): Buffer | 'stale' | undefined {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    return undefined;
  }
  const header = Buffer.from(expected);
  if (data.length <= header.length || !data.subarray(0, header.length).equals(header)) return 'stale';
  return data.subarray(header.length);
}

export function loadBundle(bundle: string): LoadedBundle {
  // The stamp and the source from one open file, so they describe the same bundle.
  const fd = openSync(bundle, 'r');
  let source: string;
  let expected: string;
  try {
    const stat = fstatSync(fd);
    source = readFileSync(fd, 'utf8');
    expected = stamp(source, stat.size, stat.mtimeMs);
  } finally {
    closeSync(fd);
  }
  const cache = readCache(cachePathOf(bundle), expected);
  const cachedData = cache instanceof Buffer ? cache : undefined;
  // The wrapper require() puts around a CommonJS file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const outcome: CacheOutcome = cache === 'stale' ? 'stale' : cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used';
  return {
    outcome,
    run() {
      const module = { exports: {} };
      const body = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
      body(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
    },
    writeCache() {
      const path = cachePathOf(bundle);
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, Buffer.concat([Buffer.from(expected), script.createCachedData()]));
      renameSync(temporary, path);
    },
  };
}

/**
 * The entry points' loader. STEWARD_WRITE_CODE_CACHE=1 makes the run write the cache
 * when the process exits, so that it holds what that run compiled (the build does this
 * with a short boot). Nothing here may stop the bundle from running.
 */
export function runBundle(bundle: string): void {
  let loaded: LoadedBundle;
  try {
    loaded = loadBundle(bundle);
  } catch {
    createRequire(bundle)(bundle);
    return;
  }
  const writeCache = process.env['STEWARD_WRITE_CODE_CACHE'] === '1';
  // Services and commands must not inherit it.
  delete process.env['STEWARD_WRITE_CODE_CACHE'];
  if (writeCache) {
    process.once('exit', () => {
      try {
        loaded.writeCache();
      } catch (error) {
        process.stderr.write(`steward: cannot write the code cache next to ${bundle}: ${String(error)}\n`);
      }
    });
  }
  loaded.run();
}
