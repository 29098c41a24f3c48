import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import type { Reporter } from '../log/reporter.js';
import { NODE_COMMANDS, providedCommands, shellCommands } from '../model/provided-commands.js';
import { SKARNET_COMMANDS } from '../model/skarnet-commands.js';
import { packageRoot } from '../util/package-root.js';
import { removeIfPresent } from '../util/remove.js';

/**
 * [link, target] pairs for every command, linked into `dir`: the commands s6-overlay images
 * call by path or by name, where Steward's versions of them live in the package, and the CLI.
 */
export function commandLinks(dir: string, root = packageRoot()): [string, string][] {
  return [
    ...shellCommands(root).map((name): [string, string] => [join(dir, name), join(root, 'shims', name)]),
    ...NODE_COMMANDS.map((name): [string, string] => [join(dir, name), join(root, 'bin', 's6-tool')]),
    // The CLI itself, for scripts and health checks in images where npm's bin directory is not in PATH.
    [join(dir, 'steward'), join(root, 'bin', 'steward')],
  ];
}

/**
 * [link, target] pairs for the image's own copies of skarnet's programs that Steward does not
 * provide (s6-log, s6-fghack, execline's loopwhilex...), where a distribution's s6 or execline
 * package put them: scripts written for s6-overlay call them by /command path (Frigate's
 * logutil runs /command/s6-envuidgid). Targets are paths inside the image. Only looked for when
 * such a package is there (one lstat each), as reading /usr/bin costs a millisecond at boot.
 */
export function imageToolLinks(dir: string, root = '/'): [string, string][] {
  const binDirs = ['/usr/bin', '/bin'].filter((bin, index) => index === 0 || !isLinkTo(join(root, bin)));
  const hasPackage = binDirs.some((bin) => ['s6-svscan', 'execlineb'].some((name) => lstatSync(join(root, bin, name), { throwIfNoEntry: false }) !== undefined));
  if (!hasPackage) return [];
  const links = new Map<string, string>();
  for (const bin of binDirs) {
    let names: string[];
    try {
      names = readdirSync(join(root, bin));
    } catch {
      continue;
    }
    for (const name of names) {
      if (SKARNET_COMMANDS.has(name) && !providedCommands().has(name) && !links.has(name)) links.set(name, join(bin, name));
    }
  }
  return [...links].map(([name, target]) => [join(dir, name), target]);
}

/** Whether a directory is a link (/bin to usr/bin in merged-/usr images). */
function isLinkTo(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true;
}

export type LinkOutcome = 'linked' | 'kept' | 'failed';

/**
 * A link to one of s6-overlay's own programs (under /package/admin, directly or through
 * /command as its symlinks tarball links /usr/bin): skarnet's tools, which work under
 * Steward and need nothing that Steward's versions need (setpriv for s6-setuidgid, say).
 */
export function isOverlayToolLink(link: string, root = '/'): boolean {
  try {
    if (!lstatSync(link).isSymbolicLink()) return false;
    return /\/package\/admin\/[^/]+\/command\/[^/]+$/.test(root === '/' ? realpathSync(link) : resolveWithin(root, link));
  } catch {
    return false;
  }
}

/** MAXSYMLINKS, as the kernel counts them. */
const MAX_LINK_HOPS = 40;

/**
 * Where a link leads inside a root file system being built (steward install --root): an
 * absolute target such as /package/admin/... is the root's, not the host's.
 */
function resolveWithin(root: string, link: string): string {
  let current = link;
  for (let hop = 0; hop < MAX_LINK_HOPS && lstatSync(current, { throwIfNoEntry: false })?.isSymbolicLink() === true; hop++) {
    const target = readlinkSync(current);
    current = target.startsWith('/') ? join(root, target) : join(dirname(current), target);
  }
  return current;
}

/**
 * s6-overlay's links to s6-rc: its s6-rc works only inside s6-overlay's own supervision
 * tree, which is not there under Steward, so Steward's replaces it. (s6's s6-svc and
 * friends keep working: Steward keeps the supervise/ directories they use.)
 */
export function isOverlayRcLink(link: string): boolean {
  try {
    return /\/package\/admin\/s6-rc(-[\d.]+)?\/command\/s6-rc$/.test(readlinkSync(link));
  } catch {
    return false;
  }
}

/** What `steward install` replaces: its own and other links, but not s6-overlay's tools (its s6-rc excepted). */
export function replacedByInstall(link: string, root = '/'): boolean {
  return isOverlayRcLink(link) || !isOverlayToolLink(link, root);
}

/**
 * Links `link` to `target`. A real file already there is kept (an image's own s6 tools
 * win); an old link is replaced only when `replaceLinks` is set.
 */
export function placeLink(link: string, target: string, replaceLinks: boolean): LinkOutcome {
  try {
    const existing = lstatSync(link, { throwIfNoEntry: false });
    if (existing !== undefined && (!existing.isSymbolicLink() || !replaceLinks)) return 'kept';
    mkdirSync(dirname(link), { recursive: true, mode: 0o755 });
    // unlink, not rmSync: Node 23's rmSync leaves a dangling link where it is, without an error.
    removeIfPresent(link);
    symlinkSync(target, link);
    return 'linked';
  } catch {
    return 'failed';
  }
}

/** The commands scripts call most by /command path, through which links that lead nowhere are noticed. */
const DANGLING_PROBES = ['with-contenv', 'execlineb', 's6-svc'];

/** A symbolic link whose target is missing. */
function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true && statSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    // A loop of links, or a target that cannot be reached: it leads nowhere either.
    return true;
  }
}

/**
 * At boot: links Steward's commands into `dir` where the image has none (or a link that leads
 * nowhere), and replaces s6-overlay's s6-rc, which cannot work here. Failures (a read-only
 * root) are reported.
 */
export function linkCommandsAtBoot(dir: string, reporter: Reporter): void {
  // Links that lead nowhere (an image that removed s6-overlay's /package but kept /command) are
  // replaced too. Looked for through a few of them first: a stat of each of over a hundred
  // links would cost the boot a millisecond, and such links come all together.
  const danglingLinks = DANGLING_PROBES.some((name) => isDanglingLink(join(dir, name)));
  const replaced = (link: string): boolean => danglingLinks && isDanglingLink(link);
  const links = commandLinks(dir).map(([link, target]) => {
    const overlayRc = isOverlayRcLink(link);
    return { link, overlayRc, outcome: placeLink(link, target, overlayRc || replaced(link)) };
  });
  // The image's own skarnet programs where /command lacks them; quietly, as they are extras.
  for (const [link, target] of imageToolLinks(dir)) placeLink(link, target, replaced(link));
  const unlinked = links.filter(({ outcome }) => outcome === 'failed');
  if (unlinked.length > 0) {
    // Scripts calling them would fail with a bare "not found": say why here, once.
    const names = unlinked.filter(({ overlayRc }) => !overlayRc).map(({ link }) => basename(link));
    if (names.length > 0) reporter.warn('steward', `${dir} has no ${names.join(', ')} and they cannot be linked there (read-only root?): scripts that call them will fail. Run "steward install" in the image`);
  }
  if (unlinked.some(({ overlayRc }) => overlayRc)) {
    reporter.warn('steward', `${dir}/s6-rc is s6-overlay's, which needs s6-overlay's own supervision tree, and it cannot be replaced (read-only root?): s6-rc calls will fail. Run "steward install" in the image`);
  }
}
