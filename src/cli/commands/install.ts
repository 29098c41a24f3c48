import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, renameSync, writeFileSync } from 'node:fs';

import { StewardError } from '../../errors.js';
import { basename, join, relative, resolve, sep } from 'node:path';

import { isDirectory } from '../../config/scan.js';
import { imageLacks, type ImageLack } from '../../init/image-requirements.js';
import { commandLinks, imageToolLinks, placeLink, replacedByInstall } from '../../init/shims.js';
import { findExecutable } from '../../sys/which.js';
import { packageRoot } from '../../util/package-root.js';
import { removeIfPresent } from '../../util/remove.js';
import { bundlesWithoutUsableCache, writeCodeCaches } from '../code-cache-warm-up.js';
import type { Command } from '../command.js';
import { parseOptions, refuseWords } from '../command.js';
import { writeErr, writeOut } from '../output.js';
import { classifyOverlayInit, writtenByInstall } from '../overlay-init.js';

/**
 * Puts the entry points where s6-overlay images expect them: /init, and in /command
 * with-contenv, printcontenv and the s6 commands (in /usr/bin too with --usr-bin).
 */
export const installCommand: Command = {
  name: 'install',
  usage: 'install [--root DIR] [--usr-bin]',
  summary: 'link /init and the s6-overlay commands in /command',
  help: [
    'Run it in a Dockerfile after installing Steward: RUN steward install',
    'It links /init to steward-init, and with-contenv, printcontenv, s6-svc, s6-svstat, s6-svwait,',
    's6-svok, s6-svscanctl, s6-rc, s6-setuidgid, s6-envdir, s6-notifyoncheck, fdmove, redirfd, logutil-service,',
    'with-retries, the s6-portable-utils commands scripts call (s6-echo, s6-test...), execline\'s',
    'chain-loading commands and steward itself into /command, and the image\'s own copies of the other',
    's6 and execline programs (from a distribution\'s s6 or execline package in /usr/bin or /bin).',
    '  --root DIR   install under DIR instead of / (for building a root file system; with Steward',
    '               itself under DIR, the links lead where it will be once DIR is the image\'s /)',
    "  --usr-bin    also link them in /usr/bin, as s6-overlay's symlinks tarball does",
    "A real file already in place is kept (say, an s6 the image installed), and so are s6-overlay's",
    "links to its own tools, which work under Steward; other links, and s6-overlay's s6-rc, are replaced.",
    "s6-overlay's own /init is moved to /init.s6-overlay, so that ENTRYPOINT [\"/init\"] starts Steward (one with lines",
    "the image added is kept as a script that runs them, then starts Steward where it started s6-overlay's stage 0 or 1);",
    'any other /init (a file, or a link to tini, say) is kept, and said so; a link to a steward-init is replaced.',
    "Without --root, it also makes the code caches for the image's own Node when those Steward came with do not fit it.",
  ].join('\n'),
  run(args) {
    const { flags, values, positional } = parseOptions('install', args, { flags: ['usr-bin'], values: ['root'] });
    refuseWords('install', positional, 'To install into an image root, give it with --root DIR; without --root, steward install writes into /');
    // An empty one (--root "$ROOTFS" with the variable unset) would be the working directory.
    if (values.get('root') === '') throw new StewardError('ERR_USAGE', 'steward install: --root is empty', { hint: 'Give the root file system being built, or no --root to install into this image' });
    const root = resolve(values.get('root') ?? '/');
    // A root file system being built is there already: a typo must not make a new tree.
    if (!isDirectory(root)) throw new StewardError('ERR_USAGE', `steward install: --root ${root} is not a directory`, { hint: 'Give the root file system being built (it holds etc/ and usr/), or run steward install without --root in the image itself' });
    const packageDir = packageRoot();
    // Building a root file system with Steward inside it: the links lead where Steward will be
    // once DIR is the image's /, not where this machine has it now.
    const insideRoot = root !== '/' && packageDir.startsWith(realPath(root) + sep);
    const inImage = (path: string): string => (insideRoot && path.startsWith(packageDir + sep) ? `/${relative(root, path)}` : path);
    if (root !== '/' && !insideRoot) writeOut(`note: Steward is at ${packageDir}, outside ${root}: the links lead there, so the image needs it at that same path (or install Steward under ${root} and run its own steward install --root ${root})\n`);
    const links: [string, string][] = [
      [join(root, 'init'), inImage(join(packageDir, 'bin', 'steward-init'))],
      ...commandLinks(join(root, 'command'), packageDir).map(([link, target]): [string, string] => [link, inImage(target)]),
      ...(flags.has('usr-bin') ? commandLinks(join(root, 'usr', 'bin'), packageDir).map(([link, target]): [string, string] => [link, inImage(target)]) : []),
      // The image's own s6 or execline programs that Steward does not provide, for scripts calling them by /command path.
      ...imageToolLinks(join(root, 'command'), root),
    ];
    let failed = 0;
    const overlayInit = join(root, 'init');
    const stewardInit = inImage(join(packageDir, 'bin', 'steward-init'));
    const initOutcome = replaceOverlayInit(overlayInit, stewardInit);
    if (initOutcome === 'failed') failed++;
    for (const [link, target] of links) {
      if (link === overlayInit && initOutcome === 'written') continue;
      const overlayTool = !replacedByInstall(link, root);
      // The image's own /init (a link to tini, dumb-init or a script of its own) is kept as a
      // file would be; only a link to a Steward (an earlier install) is replaced.
      const isInit = link === overlayInit;
      if (isInit && isStewardInitCopy(link)) removeIfPresent(link);
      const outcome = placeLink(link, target, isInit ? leadsToSteward(link) : !overlayTool);
      if (outcome === 'linked') writeOut(`${link} -> ${target}\n`);
      else if (outcome === 'kept' && isInit) writeOut(`${link}: kept (${describeExisting(link)}); point the ENTRYPOINT at ${target}\n`);
      else if (outcome === 'kept') writeOut(overlayTool ? `${link}: kept (s6-overlay's, which works under Steward)\n` : `${link}: kept (a file the image already has)\n`);
      else {
        failed++;
        writeErr(`steward install: cannot link ${link}\n`);
      }
    }
    // In the image itself, not a root file system being built: caches for its own Node, and
    // what Steward's commands need that the image lacks.
    if (root === '/') {
      makeCodeCachesForThisNode(packageDir);
      for (const lack of [...imageLacks(process.env['PATH']), ...entryPointLacks(packageDir)]) writeErr(`steward install: warning: ${lack.what}. ${lack.hint}\n`);
    }
    return Promise.resolve(failed === 0 ? 0 : 1);
  },
};

/**
 * The code caches the package came with fit the Node release that built it only: in an image
 * with another (a package packed with one Node 20 in an image with another, or Node 22), each
 * start of PID 1 and of the commands would compile instead, 10 to 15 ms more. Made anew, by the
 * same warm-up as the build's, when they do not fit; a failure costs only that time.
 */
function makeCodeCachesForThisNode(packageDir: string): void {
  if (bundlesWithoutUsableCache(packageDir).length === 0) return;
  const problem = writeCodeCaches(packageDir);
  if (problem === undefined) writeOut(`${join(packageDir, 'dist')}: code caches made for Node ${process.version}\n`);
  else writeErr(`steward install: warning: no code caches for Node ${process.version} (Steward starts without them, 10 to 15 ms slower): ${problem}\n`);
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether `path` is a link to a steward-init (an earlier install, wherever its package was). */
function leadsToSteward(path: string): boolean {
  try {
    return basename(readlinkSync(path)) === 'steward-init';
  } catch {
    return false;
  }
}

/**
 * Whether `path` is a file copy of a steward-init: the link of an earlier install that a later
 * layer edited in place (sed -i /init, meant for s6-overlay's script). It runs, finding Steward
 * through /command/steward; linked again all the same.
 */
function isStewardInitCopy(path: string): boolean {
  try {
    const stats = lstatSync(path);
    if (!stats.isFile() || stats.size > 65_536) return false;
    return readFileSync(path, 'utf8').includes(STEWARD_INIT_MARK);
  } catch {
    return false;
  }
}

/** A line every steward-init has had, and no other entry point. */
const STEWARD_INIT_MARK = '// Container entrypoint: `ENTRYPOINT ["/init"]` with /init linked here.';

/** What the image has there, in words. */
function describeExisting(path: string): string {
  try {
    return `the image's own, a link to ${readlinkSync(path)}`;
  } catch {
    return 'a file the image already has';
  }
}

/**
 * s6-overlay's /init moved aside, so that ENTRYPOINT ["/init"] starts Steward: replaced by a
 * link (made with the others) when it is s6-overlay's alone, by the same script starting
 * Steward where it started s6-overlay when the image added lines of its own (see overlay-init.ts).
 * A script an earlier install wrote is written anew from the original beside it.
 */
function replaceOverlayInit(init: string, stewardInit: string): 'linked-later' | 'written' | 'failed' | 'none' {
  const moved = `${init}.s6-overlay`;
  // A copy of steward-init (a later layer's sed -i made the link one) names s6-overlay in its
  // comments: it is linked again with the others, and s6-overlay's original stays where it is.
  if (isStewardInitCopy(init)) return 'none';
  const text = overlayInitText(init);
  if (text === undefined) return 'none';
  try {
    if (writtenByInstall(text)) {
      const original = overlayInitText(moved);
      const classified = original === undefined ? undefined : classifyOverlayInit(original);
      if (classified?.kind !== 'extended') return 'none';
      writeScript(init, classified.withSteward(stewardInit));
      writeOut(`${init}: written anew from ${moved}, starting ${stewardInit}\n`);
      return 'written';
    }
    const classified = classifyOverlayInit(text);
    renameSync(init, moved);
    if (classified.kind === 'extended') {
      writeScript(init, classified.withSteward(stewardInit));
      writeOut(`${init}: s6-overlay's, with ${classified.imageLines.length} lines of the image's own: kept, and starting ${stewardInit} where it started s6-overlay (the original is ${moved})\n`);
      return 'written';
    }
    writeOut(`${init}: s6-overlay's, moved to ${moved}\n`);
    if (classified.kind === 'unrecognized') {
      const shown = classified.imageLines.slice(0, 5).join(' / ');
      writeErr(
        `steward install: warning: ${moved} has lines of the image's own that Steward does not run (${shown}${classified.imageLines.length > 5 ? ' ...' : ''}), and no statement starting s6-overlay (exec s6-overlay-suexec, or v2's /etc/s6/init/init-stage1 $@) to start Steward in its place. Run them from a cont-init.d script, or from an entrypoint of the image's own that ends in exec ${stewardInit} "$@"\n`,
      );
    }
    return 'linked-later';
  } catch (error) {
    writeErr(`steward install: cannot replace s6-overlay's ${init}: ${(error as Error).message}\n`);
    return 'failed';
  }
}

function writeScript(path: string, text: string): void {
  removeIfPresent(path);
  writeFileSync(path, text, { mode: 0o755 });
  chmodSync(path, 0o755);
}

/** The text of s6-overlay's /init (v3: a sh script starting its stage0; v2: an execline script running /etc/s6/init), or of one an earlier install wrote; undefined for anything else. */
function overlayInitText(path: string): string | undefined {
  try {
    const stats = lstatSync(path);
    if (!stats.isFile() || stats.size > 65_536) return undefined;
    const text = readFileSync(path, 'utf8');
    return text.includes('s6-overlay') || text.includes('/etc/s6/init/') ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * /init leads to bin/steward-init, which starts with #!/usr/bin/env node: without /usr/bin/env,
 * or with no node in PATH, ENTRYPOINT ["/init"] fails before Steward runs ("no such file").
 */
function entryPointLacks(packageDir: string): ImageLack[] {
  const entryPoint = `ENTRYPOINT ["${process.execPath}", "${join(packageDir, 'bin', 'steward-init')}"]`;
  if (!existsSync('/usr/bin/env')) return [{ what: '/init starts with #!/usr/bin/env node, and this image has no /usr/bin/env', hint: `Start Steward with its Node instead: ${entryPoint}` }];
  if ('error' in findExecutable('node', process.env['PATH'])) return [{ what: `/init starts with #!/usr/bin/env node, and no node is in PATH (this Node is ${process.execPath})`, hint: `Add its directory to PATH, or start Steward with its Node: ${entryPoint}` }];
  return [];
}
