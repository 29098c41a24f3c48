import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { findExecutable } from '../sys/which.js';

/** Something Steward's own commands need that the image lacks, and what to do. */
export interface ImageLack {
  readonly what: string;
  readonly hint: string;
}

/**
 * What Steward's commands need of the image beyond Node: a POSIX shell at /bin/sh (its
 * launchers in /command, execlineb and with-contenv among them, start through it, and so do
 * scripts without a shebang), and a `node` that the launchers find (PATH, /usr/local/bin,
 * /usr/bin). A distroless image has neither; its services fail with a bare ENOENT otherwise.
 */
export function imageLacks(path: string | undefined, root = '/'): ImageLack[] {
  const lacks: ImageLack[] = [];
  const inRoot = (file: string): string => join(root, file);
  if (!existsSync(inRoot('/bin/sh'))) {
    lacks.push({
      what: "this image has no /bin/sh: Steward's commands in /command (execlineb, with-contenv, s6-svc, steward...) and scripts without a shebang start through a POSIX shell, and cannot run; scripts with another interpreter (#!/usr/bin/node) and s6-rc up files still do",
      hint: "Add a shell at /bin/sh (BusyBox's static binary is enough)",
    });
  }
  const pathInRoot = (path ?? '/usr/bin:/bin')
    .split(':')
    .map((dir) => (dir === '' ? dir : inRoot(dir)))
    .join(':');
  if ('error' in findExecutable('node', pathInRoot) && !existsSync(inRoot('/usr/local/bin/node')) && !existsSync(inRoot('/usr/bin/node'))) {
    lacks.push({
      what: `Steward's commands in /command look for node in PATH, /usr/local/bin and /usr/bin, and there is none (this Node is ${process.execPath})`,
      hint: `Link it there: ln -s ${process.execPath} /usr/local/bin/node`,
    });
  }
  return lacks;
}
