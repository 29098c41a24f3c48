import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join, sep } from 'node:path';

import type { S6SuperviseSetting } from '../config/settings.js';
import { S6SuperviseDirs } from '../control/s6-supervise/dirs.js';
import { type StatusFormat, statusFormatOf } from '../control/s6-supervise/status-file.js';
import type { ControlTarget } from '../control/target.js';
import type { InitContext } from './context.js';
import type { ServiceSet } from './service-set.js';
import { packageRoot } from '../util/package-root.js';
import { isOverlayV2Image, V2_OVERLAY_MARKER } from './overlay-v2.js';

/** Where s6-overlay puts s6's tools; the other places count only when the setting says on, or for a v2 image. */
const OVERLAY_TOOL = '/command/s6-svc';
const OTHER_TOOLS = ['/usr/bin/s6-svc', '/bin/s6-svc', '/usr/local/bin/s6-svc', '/usr/sbin/s6-svc'];
/** Where a distribution's shared libs6 (named with its version) may be. */
const LIBRARY_DIRS = ['/usr/lib', '/lib', `/usr/lib/${multiarch()}`, `/lib/${multiarch()}`];

export interface S6Tools {
  readonly path: string;
  /** s6's release, when the installation tells it (s6-overlay's path, a distribution's library name). */
  readonly version: readonly number[] | null;
}

/** Whether s6's tools count in the usual bin directories too: when asked, or in an s6-overlay v2 image, which put them there. */
export function searchesEverywhere(mode: S6SuperviseSetting['mode'], v2Marker = V2_OVERLAY_MARKER): boolean {
  return mode === 'on' || (mode === 'auto' && isOverlayV2Image(v2Marker));
}

/** Where to look for s6's s6-svc: s6-overlay's /command, and with `everywhere` the usual bin directories. */
export function s6ToolCandidates(everywhere: boolean): readonly string[] {
  return everywhere ? [OVERLAY_TOOL, ...OTHER_TOOLS] : [OVERLAY_TOOL];
}

/** The first of `candidates` that exists and is not Steward's own s6-tool. */
export function findS6Tools(candidates: readonly string[], stewardRoot = packageRoot()): S6Tools | undefined {
  const path = findS6Tool(candidates, stewardRoot);
  return path === undefined ? undefined : { path, version: versionInPath(path) ?? libraryVersion() };
}

/** Where the first real s6-svc of `candidates` is, without its version (which may mean listing /usr/lib). */
function findS6Tool(candidates: readonly string[], stewardRoot = packageRoot()): string | undefined {
  for (const candidate of candidates) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    // Steward's own s6-svc is its s6-tool, this package's or another install's (an older global one).
    if (!real.startsWith(stewardRoot + sep) && basename(real) !== 's6-tool') return real;
  }
  return undefined;
}

/** s6-2.13.1.0 in /package/admin/s6-2.13.1.0/command/s6-svc. */
export function versionInPath(path: string): number[] | null {
  const match = /\/s6-(\d+(?:\.\d+)+)\//.exec(path);
  return match?.[1] === undefined ? null : match[1].split('.').map(Number);
}

function libraryVersion(): number[] | null {
  for (const dir of LIBRARY_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^libs6\.so\.(\d+(?:\.\d+)+)$/.exec(name);
      if (match?.[1] !== undefined) return match[1].split('.').map(Number);
    }
  }
  return null;
}

function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}

/**
 * The status layout to write: that of the tools' release when it is known; otherwise, in an
 * image made for s6-overlay v2 (whose s6 is 2.10 at the newest: its tools are static, in /bin,
 * with no version in a path or a library name), the layout before 2.13, and the newest for the
 * rest (s6-overlay 3.2 and later ship s6 2.13).
 */
export function chooseStatusFormat(version: readonly number[] | null, overlayV2: boolean): StatusFormat {
  if (version !== null) return statusFormatOf(version);
  return overlayV2 ? 35 : 43;
}

/** The services.d entries whose image has a supervise/control fifo of its own. */
function servicesWithImageControlFifo(etcDir: string): string[] {
  const servicesDir = join(etcDir, 'services.d');
  let names: string[];
  try {
    names = readdirSync(servicesDir);
  } catch {
    return [];
  }
  return names.filter((name) => hasOwnControlFifo(`${servicesDir}/${name}`));
}

/** Whether `dir` has a supervise/control fifo of its own (the image, or a script, made it). */
function hasOwnControlFifo(dir: string): boolean {
  try {
    // Asked of every service on the boot's path, and almost always missing: no exception for
    // that, and no path.join (a name from a listing has no slash to normalize).
    return lstatSync(`${dir}/supervise/control`, { throwIfNoEntry: false })?.isFIFO() === true;
  } catch {
    return false;
  }
}

/** What keeps s6's on-disk interface, to close at the end. */
export interface KeptSuperviseDirs {
  close(): void;
}

/**
 * Starts s6's on-disk interface when the setting asks for it (auto: s6-overlay's tools are
 * still in /command, so scripts calling s6-svc get s6's, which talk to supervise/
 * directories rather than to Steward's socket; or a services.d entry of the image has a
 * supervise/control of its own, or a directory scanned into /run/service later does). Returns
 * undefined when it is off.
 */
export function startS6SuperviseDirs(context: InitContext, target: ControlTarget, services: ServiceSet, setting: S6SuperviseSetting, overlayV2: boolean): KeptSuperviseDirs | undefined {
  if (setting.mode === 'off') return undefined;
  const tools = setting.version === null ? findS6Tools(s6ToolCandidates(searchesEverywhere(setting.mode))) : undefined;
  // An image that made a service's supervise/control itself controls it through that fifo (a
  // group of its own may write it), with or without s6's tools.
  const imageFifos = setting.mode === 'auto' && tools === undefined ? servicesWithImageControlFifo(context.settings.etcDir) : [];
  // Kept for the image's own fifos, the status is read by whatever s6 the image has (a
  // distribution's, in /usr/bin): its layout is that one's.
  const versionOfImageS6 = (): readonly number[] | null => setting.version ?? findS6Tools(s6ToolCandidates(true))?.version ?? null;
  if (setting.mode === 'auto' && tools === undefined && imageFifos.length === 0) {
    // A distribution's s6 (installed for s6-log, say) is what `docker exec NAME s6-svstat`
    // finds on the image's PATH: say how to make it see the services, rather than pay for
    // the directories in every image that merely has the package.
    const packaged = findS6Tool(s6ToolCandidates(true));
    if (packaged !== undefined) {
      context.reporter.info('steward', `s6's tools are installed (${packaged}); they see Steward's services only with STEWARD_S6_SUPERVISE=on, while Steward's own (in /command) always do`);
    }
    // A directory copied into /run/service at run time with a supervise/control of its own
    // (hermes-agent's gateways) turns them on then, for it and what is installed after it.
    let kept: S6SuperviseDirs | undefined;
    services.whenInstalled((supervisor) => {
      if (kept !== undefined || !hasOwnControlFifo(supervisor.definition.liveDir)) return;
      // keepDirs adds a hook of its own, which this walk of the hooks reaches next: it attaches this one too.
      kept = keepDirs(context, target, services, versionOfImageS6(), overlayV2, ` (the image made supervise/control for ${supervisor.name})`);
    });
    return { close: () => kept?.close() };
  }
  // With tools found, no version was set (they are looked for only then).
  const version = tools?.version ?? (imageFifos.length > 0 ? versionOfImageS6() : setting.version);
  const found = tools !== undefined ? ` for ${tools.path}` : imageFifos.length > 0 ? ` (the image made supervise/control for ${imageFifos.join(', ')})` : '';
  return keepDirs(context, target, services, version, overlayV2, found);
}

/** s6's supervise/ directories for every service installed from now on, in the layout of s6 `version`. */
function keepDirs(context: InitContext, target: ControlTarget, services: ServiceSet, version: readonly number[] | null, overlayV2: boolean, found: string): S6SuperviseDirs {
  const format = chooseStatusFormat(version, overlayV2);
  const dirs = new S6SuperviseDirs(target, {
    format,
    scanDir: context.layout.serviceDir,
    now: () => context.clock.now(),
    problem: (message) => context.reporter.warn('steward', message),
  });
  dirs.start();
  services.whenInstalled((supervisor) => dirs.attach(supervisor));
  services.whenForgotten((supervisor) => dirs.detach(supervisor.name));
  const layoutOf = version?.join('.') ?? (format === 43 ? '2.13+' : 'before 2.13, as s6-overlay v2 ships');
  context.reporter.info('steward', `keeping s6 supervise directories${found} (status layout of s6 ${layoutOf}); STEWARD_S6_SUPERVISE=off turns this off`);
  return dirs;
}
