// Makes the V8 code caches that bin/ loads next to each bundle (see
// src/loader/code-cache.ts): one short boot of a small tree that touches what a
// real boot compiles (fix-attrs.d, cont-init.d, services.d with readiness and a
// logger, s6-rc.d oneshots, longruns and a bundle, the CMD, the shutdown), with
// the CLI and the s6 commands run against it. Needs no root: Steward runs as a
// subreaper with its runtime directory in a temporary folder.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

function write(path, text, mode = 0o644) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function script(path, body) {
  write(path, `#!/bin/sh\n${body}\n`, 0o755);
}

function writeTree(dir) {
  const etc = join(dir, 'etc');
  write(join(etc, 'fix-attrs.d', '01-run'), `${dir}/run false ${process.getuid()}:${process.getgid()} 0755 0755\n`);
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
  symlinkSync(join(ROOT, 'bin', 's6-tool'), join(dir, 'links', 's6-svstat'));
  const cache = 'STEWARD_WRITE_CODE_CACHE=1';
  // The CMD: once the services are up, the commands people type most.
  script(
    join(dir, 'cmd'),
    [
      `${cache} ${join(ROOT, 'bin', 'steward')} status >/dev/null`,
      `${cache} ${join(dir, 'links', 's6-svstat')} ${join(dir, 'run', 'service', 'svc-app')} >/dev/null`,
      'exit 0',
    ].join('\n'),
  );
  return etc;
}

/** Returns a problem to report, or undefined when the caches were written. */
export function writeCodeCaches() {
  const dir = mkdtempSync(join(tmpdir(), 'steward-code-cache-'));
  try {
    const etc = writeTree(dir);
    const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'steward-init'), join(dir, 'cmd')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
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
    if (result.status === 0) return undefined;
    const why = result.error?.message ?? (result.signal === null ? `exit status ${result.status}` : `signal ${result.signal}`);
    return `the warm-up boot ended with ${why}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
