import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { shimsDir } from '../../init/runtime-dir.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';

/**
 * Puts the entry points where s6-overlay images expect them: /init, and
 * with-contenv and printcontenv in /command (and /usr/bin with --usr-bin).
 */
export const installCommand: Command = {
  name: 'install',
  usage: 'install [--root DIR] [--usr-bin]',
  summary: 'link /init, /command/with-contenv and /command/printcontenv',
  help: [
    'Run it in a Dockerfile after installing Steward: RUN steward install',
    '  --root DIR   install under DIR instead of / (for building a root file system)',
    '  --usr-bin    also link with-contenv and printcontenv in /usr/bin, as s6-overlay\'s symlinks tarball does',
    'Existing files are left alone unless they are links, which are replaced.',
  ].join('\n'),
  run(args) {
    const { flags, values } = parseOptions('install', args, { flags: ['usr-bin'], values: ['root'] });
    const root = resolve(values.get('root') ?? '/');
    const initScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'steward-init');
    const links: [string, string][] = [[join(root, 'init'), initScript]];
    const dirs = ['command', ...(flags.has('usr-bin') ? ['usr/bin'] : [])];
    for (const dir of dirs) {
      for (const name of ['with-contenv', 'printcontenv']) links.push([join(root, dir, name), join(shimsDir(), name)]);
    }
    let failed = 0;
    for (const [link, target] of links) {
      if (existsSync(link) && !lstatSync(link).isSymbolicLink()) {
        process.stderr.write(`steward install: ${link} exists and is not a link; leaving it\n`);
        continue;
      }
      try {
        mkdirSync(dirname(link), { recursive: true });
        rmSync(link, { force: true });
        symlinkSync(target, link);
        process.stdout.write(`${link} -> ${target}\n`);
      } catch (error) {
        failed++;
        process.stderr.write(`steward install: cannot link ${link}: ${(error as Error).message}\n`);
      }
    }
    return Promise.resolve(failed === 0 ? 0 : 1);
  },
};
