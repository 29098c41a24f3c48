// Builds the s6-overlay legacy layout both peers run from:
//
//   <dir>/etc/services.d/<name>/run   one directory per service
//   <dir>/etc/cont-init.d/            empty
//   <dir>/etc/cont-finish.d/          empty
//   <dir>/run/                        Steward's runtime directory (STEWARD_RUN)
//   <dir>/events.fifo                 where services announce that they started
//
// Steward reads <dir>/etc (STEWARD_ETC); s6-svscan scans <dir>/etc/services.d
// directly, so both supervise byte-identical service directories.

import fs from 'node:fs';
import path from 'node:path';

export function serviceName(index) {
  return `svc-${String(index).padStart(3, '0')}`;
}

/**
 * Every service announces "<name> <pid in its namespace>" on the fifo and then
 * execs `sleep infinity`. `echo` is a dash builtin, so the announcement costs no
 * extra fork; the same PID stays the service after the exec, which lets the
 * harness find and kill it. sleep dies at once on SIGTERM (default action),
 * which is what the shutdown measurement needs.
 */
function runScript(name, fifo) {
  return [
    '#!/bin/sh',
    `echo "${name} $$" > ${fifo}`,
    'exec sleep infinity',
    '',
  ].join('\n');
}

/** Writes the layout for `count` services under `dir` and returns its paths. */
export function writeLayout(dir, count) {
  const paths = {
    etc: path.join(dir, 'etc'),
    services: path.join(dir, 'etc', 'services.d'),
    run: path.join(dir, 'run'),
    fifo: path.join(dir, 'events.fifo'),
  };
  for (const sub of ['services.d', 'cont-init.d', 'cont-finish.d']) {
    fs.mkdirSync(path.join(paths.etc, sub), { recursive: true });
  }
  fs.mkdirSync(paths.run);
  const names = [];
  for (let i = 0; i < count; i++) {
    const name = serviceName(i);
    const serviceDir = path.join(paths.services, name);
    fs.mkdirSync(serviceDir);
    fs.writeFileSync(path.join(serviceDir, 'run'), runScript(name, paths.fifo), { mode: 0o755 });
    names.push(name);
  }
  return { ...paths, names };
}
