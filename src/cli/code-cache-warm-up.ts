import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { cachePathOf, loadBundle } from '../loader/code-cache.js';

/**
 * Makes the V8 code caches that bin/ loads next to each bundle (see src/loader/code-cache.ts),
 * for the Node that runs this: one short boot of a small tree that touches what a real boot
 * compiles (fix-attrs.d, cont-init.d, services.d with readiness and a logger, s6-rc.d oneshots,
 * longruns and a bundle, the CMD, the shutdown), with the CLI and the s6 commands run against
 * it. Needs no root: Steward runs as a subreaper with its runtime directory in a temporary
 * folder. The build makes them; `steward install` makes them again for an image's own Node,
 * whose release a cache made by another one does not fit.
 */

/** The bundles bin/ runs, each with its cache. */
export function bundlesOf(packageDir: string): string[] {
  return ['steward-init.cjs', 'steward.cjs', 's6-tool.cjs'].map((name) => join(packageDir, 'dist', name));
}

/** The bundles whose cache this Node would not use (none yet, or one another Node release made). */
export function bundlesWithoutUsableCache(packageDir: string): string[] {
  return bundlesOf(packageDir).filter((bundle) => {
    try {
      return loadBundle(bundle).outcome !== 'used';
    } catch {
      return false; // no bundle there: nothing to make a cache for
    }
  });
}

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function script(path: string, body: string): void {
  write(path, `#!/bin/sh\n${body}\n`, 0o755);
}

function writeTree(dir: string, packageDir: string): string {
  const etc = join(dir, 'etc');
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  write(join(etc, 'fix-attrs.d', '01-run'), `${dir}/run false ${uid}:${gid} 0755 0755\n`);
  script(join(etc, 'cont-init.d', '10-hello'), 'exit 0');
  script(join(etc, 'services.d', 'web', 'run'), 'echo ready >&3\nexec sleep 30');
  write(join(etc, 'services.d', 'web', 'notification-fd'), '3\n');
  script(join(etc, 'services.d', 'web', 'log', 'run'), 'exec cat >/dev/null');
  script(join(etc, 'cont-finish.d', '10-bye'), 'exit 0');
  const rc = join(etc, 's6-overlay', 's6-rc.d');
  write(join(rc, 'init-config', 'type'), 'oneshot\n');
  write(join(rc, 'init-config', 'up'), '# prepares the configuration\n/bin/true\n');
  write(join(rc, 'init-config', 'dependencies.d', 'base'), '');
  write(join(rc, 'svc-app', 'type'), 'longrun\n');
  script(join(rc, 'svc-app', 'run'), 'exec sleep 30');
  write(join(rc, 'svc-app', 'dependencies.d', 'init-config'), '');
  write(join(rc, 'app-bundle', 'type'), 'bundle\n');
  write(join(rc, 'app-bundle', 'contents.d', 'svc-app'), '');
  write(join(rc, 'user', 'type'), 'bundle\n');
  write(join(rc, 'user', 'contents.d', 'init-config'), '');
  write(join(rc, 'user', 'contents.d', 'app-bundle'), '');
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'links'));
  symlinkSync(join(packageDir, 'bin', 's6-tool'), join(dir, 'links', 's6-svstat'));
  const cache = 'STEWARD_WRITE_CODE_CACHE=1';
  // The CMD: once the services are up, the commands people type most.
  script(
    join(dir, 'cmd'),
    [
      `${cache} ${join(packageDir, 'bin', 'steward')} status >/dev/null`,
      `${cache} ${join(dir, 'links', 's6-svstat')} ${join(dir, 'run', 'service', 'svc-app')} >/dev/null`,
      'exit 0',
    ].join('\n'),
  );
  return etc;
}

/** Makes the caches. Returns a problem to report, or undefined when they were written. */
export function writeCodeCaches(packageDir: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'steward-code-cache-'));
  try {
    const etc = writeTree(dir, packageDir);
    const result = spawnSync(process.execPath, [join(packageDir, 'bin', 'steward-init'), join(dir, 'cmd')], {
      env: {
        // This Node first: bin/steward and the s6 commands start the `node` of PATH.
        PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
        STEWARD_ETC: etc,
        STEWARD_RUN: join(dir, 'run'),
        STEWARD_WRITE_CODE_CACHE: '1',
        S6_SERVICES_GRACETIME: '2000',
        S6_KILL_GRACETIME: '500',
      },
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    if (result.status === 0) {
      const missing = bundlesOf(packageDir).filter((bundle) => loadBundle(bundle).outcome !== 'used').map(cachePathOf);
      return missing.length === 0 ? undefined : `the warm-up boot wrote no usable ${missing.join(', ')}`;
    }
    const why = result.error?.message ?? (result.signal === null ? `exit status ${String(result.status)}` : `signal ${result.signal}`);
    return `the warm-up boot ended with ${why}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
