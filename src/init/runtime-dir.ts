import type { Reporter } from '../log/reporter.js';
import { accessSync, chmodSync, chownSync, constants, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { StewardError, errnoCode, errorMessage } from '../errors.js';
import { noNewPrivileges } from '../sys/proc.js';
import { readRegularFile, whyUnreadable } from '../sys/regular-file.js';
import { withSpareDescriptor } from '../sys/spare-descriptor.js';
import { removeIfPresent } from '../util/remove.js';
import { makeEnvStage3, recordStage2Exit } from './env-stage3.js';

/**
 * The paths scripts in s6-overlay images rely on, under the runtime directory.
 * They are created fresh at every boot, as s6-overlay does, so a restarted
 * container never sees the last run's state.
 */
export interface RuntimeLayout {
  readonly runDir: string;
  readonly s6Dir: string;
  readonly containerEnvironment: string;
  readonly basedirBin: string;
  readonly exitCodeFile: string;
  readonly serviceDir: string;
  readonly legacyServices: string;
  readonly workdirFile: string;
  /**
   * Where oneshots and cont-init and cont-finish scripts run: s6-overlay runs them from s6-rc's
   * oneshot runner, in this directory. Not /: a `find $UNSET_VARIABLE` (linuxserver's older
   * init-device-perms) or a relative path must not reach the whole file system.
   */
  readonly scriptsDir: string;
}

export function runtimeLayout(runDir: string): RuntimeLayout {
  const s6Dir = join(runDir, 's6');
  return {
    runDir,
    s6Dir,
    containerEnvironment: join(s6Dir, 'container_environment'),
    basedirBin: join(s6Dir, 'basedir', 'bin'),
    exitCodeFile: join(runDir, 's6-linux-init-container-results', 'exitcode'),
    serviceDir: join(runDir, 'service'),
    legacyServices: join(s6Dir, 'legacy-services'),
    workdirFile: join(s6Dir, 'workdir'),
    scriptsDir: join(runDir, 's6-rc', 'servicedirs', 's6rc-oneshot-runner'),
  };
}

/** The halt family: each asks this process, by pid, to shut down (SIGUSR2, as s6-overlay's halt). */
const HALT_COMMANDS = ['halt', 'poweroff', 'reboot', 'shutdown'];

/** The exit code when the runtime directory cannot serve: not writable, or no service can run from it. */
export const RUNTIME_DIR_UNUSABLE_EXIT = 100;

export function prepareRuntimeDir(layout: RuntimeLayout, stewardPid: number, workdir: string, haltScript: (pid: number, exitCodeFile: string, action: 'halt' | 'poweroff' | 'reboot') => string, overlayV2: boolean): void {
  try {
    mkdirSync(layout.runDir, { recursive: true, mode: 0o755 });
    removeLastRunsState(layout.runDir);
    for (const dir of [layout.s6Dir, layout.serviceDir, dirname(layout.exitCodeFile)]) {
      removeIfPresent(dir);
      // Not recursive: each is a child of runDir, made above. On a pseudo file system that answers
      // ENOENT for a new directory whose parent exists, Node's recursive mkdir retries forever.
      mkdirSync(dir, { mode: 0o755 });
    }
    mkdirSync(layout.basedirBin, { recursive: true, mode: 0o755 });
    mkdirSync(layout.legacyServices, { recursive: true, mode: 0o755 });
    mkdirSync(layout.scriptsDir, { recursive: true, mode: 0o755 });
    // s6-overlay v2's scan directory, which v2 images' scripts name (s6-svscanctl -t
    // /var/run/s6/services), s6's own tools too: the same directory as /run/service. Only for
    // them: v3 has no such path, and linuxserver.io's images make it themselves
    // (ln -s /run/s6/legacy-services /run/s6/services), which would otherwise put a link
    // into /run/service. Steward's own commands do not need it.
    if (overlayV2) symlinkSync(layout.serviceDir, join(layout.s6Dir, 'services'));
    // And v2's stage-3 environment, where its scripts leave the container's exit code: in every
    // image, as one whose s6-overlay v2 files were removed (the way to migrate) still has
    // finish scripts that write there; v3's never look at it.
    makeEnvStage3(layout.s6Dir);
    writeFileSync(layout.exitCodeFile, '0\n');
    writeFileSync(layout.workdirFile, workdir);
    for (const command of HALT_COMMANDS) {
      const path = join(layout.basedirBin, command);
      // shutdown is s6-linux-init-shutdown, a halt (-h) as images call it (shutdown -h now).
      writeFileSync(path, haltScript(stewardPid, layout.exitCodeFile, command === 'poweroff' || command === 'reboot' ? command : 'halt'));
      chmodSync(path, 0o755);
    }
  } catch (error) {
    // Node's recursive mkdir says ENOENT where the real cause is a read-only file system
    // or a directory this user may not write: find which, to say what to do.
    const failedPath = (error as NodeJS.ErrnoException).path;
    const blocked = unwritableAncestor(failedPath ?? layout.runDir) ?? unwritableAncestor(layout.runDir);
    const cause = blocked?.code ?? errnoCode(error) ?? String(error);
    const readOnly = cause === 'EROFS';
    const full = cause === 'ENOSPC' || cause === 'EDQUOT';
    // Name the directory that refused: a /run/s6 left by another user, say, not /run itself.
    const where = blocked !== undefined ? ` (${ownerOf(blocked.dir)}; Steward runs as uid ${process.getuid?.() ?? '?'})` : '';
    throw new StewardError('ERR_RUNTIME_DIR', `cannot prepare the runtime directory: ${cause}${readOnly ? ' (a read-only file system)' : full ? ' (its file system is full)' : where}`, {
      path: layout.runDir,
      hint: full
        ? `Give ${layout.runDir} more room (docker run --tmpfs /run:exec,size=64m; a larger emptyDir sizeLimit in Kubernetes), or find what filled it`
        : readOnly
        ? 'Give the container a tmpfs there (docker run --tmpfs /run:exec, or an emptyDir in Kubernetes); as root with CAP_SYS_ADMIN, S6_READ_ONLY_ROOT=1 mounts one itself'
        : `Give the container a ${layout.runDir} this user can write: a tmpfs (docker run --tmpfs /run:exec,uid=${process.getuid?.() ?? 'UID'},gid=${process.getgid?.() ?? 'GID'}), an emptyDir in Kubernetes, or the image's ${layout.runDir} owned by the user or writable by its group. Services and s6's commands expect /run/s6 and /run/service, so moving it with STEWARD_RUN is for runs on a host`,
      cause: error,
    });
  }
}

/**
 * What the last run left in a /run that is no tmpfs (Docker's is not: docker restart, and docker
 * start after docker kill, keep it), as s6-overlay's preinit clears it at every boot: the
 * catch-all log, whose last lines would read as this boot's, and s6-rc's state. What cannot be
 * removed (a volume mounted there, say) is left, emptied as far as it could be.
 */
function removeLastRunsState(runDir: string): void {
  for (const name of readdirSync(runDir)) {
    if (name !== 'uncaught-logs' && !name.startsWith('s6-rc')) continue;
    try {
      removeIfPresent(join(runDir, name));
    } catch {
      // Reported where it matters: the catch-all log or the oneshots' directory cannot be made.
    }
  }
}

/**
 * As root, a /run of another user is taken back (see takeRunBack). As a non-root user, a /run
 * that belongs to someone else (a root tmpfs with mode 1777) works for Steward, but s6-overlay's
 * preinit, running as root through its setuid helper, would have given it to the user, and images tell a non-root container that way (linuxserver's
 * docker-mods: /run not owned by root). Said, with how to get the same.
 */
export function noteRunOwner(layout: RuntimeLayout, reporter: Reporter, overlayV2: boolean): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  let owner: number;
  try {
    owner = statSync(layout.runDir).uid;
  } catch {
    return;
  }
  if (uid === 0) {
    if (owner !== 0) takeRunBack(layout.runDir, owner, reporter);
    return;
  }
  // With no-new-privileges (Kubernetes' restricted profile, OpenShift's restricted SCC),
  // s6-overlay's setuid helper cannot become root either: /run would be as it is now.
  // s6-overlay v2's setuid helper made /var/run/s6 the user's, never /run itself.
  if (owner === uid || overlayV2 || noNewPrivileges()) return;
  const gid = process.getgid?.() ?? uid;
  // A warning, not information: linuxserver's images run with S6_VERBOSITY=1, and they are the
  // ones that tell a non-root container by the owner of /run (their scripts then fail to chown).
  reporter.warn(
    'steward',
    `${layout.runDir} belongs to uid ${owner}, not to uid ${uid} that Steward runs as: s6-overlay would have given it to uid ${uid}, and some images tell a non-root container by that (linuxserver's). For the same, give the container its own: docker run --tmpfs ${layout.runDir}:exec,uid=${uid},gid=${gid}`,
  );
}

/**
 * As root, a /run of another user (a tmpfs mounted with uid=1000, one an earlier run chowned) is
 * taken back, as s6-overlay's preinit does: images tell a non-root container by the owner of
 * /run (linuxserver's then ignore PUID and PGID, and skip their crontabs and mods).
 */
function takeRunBack(runDir: string, owner: number, reporter: Reporter): void {
  try {
    chownSync(runDir, 0, process.getgid?.() ?? 0);
    chmodSync(runDir, 0o755);
    reporter.info('steward', `${runDir} belongs to uid ${owner} instead of 0: fixing it, as s6-overlay does`);
  } catch (error) {
    reporter.warn('steward', `${runDir} belongs to uid ${owner}, and Steward, root, cannot give it back to root (${errnoCode(error) ?? String(error)}): images that tell a non-root container by the owner of ${runDir} (linuxserver's) will take this one for one. Give the container a root-owned ${runDir}, or the CHOWN capability`);
  }
}

/** "/run belongs to uid 0 (mode 0755)", for a message about a directory that refused. */
function ownerOf(dir: string): string {
  try {
    const stats = statSync(dir);
    return `${dir} belongs to uid ${stats.uid} (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')})`;
  } catch {
    return `${dir} cannot be written`;
  }
}

/** EROFS or EACCES from the nearest existing directory at or above `path`, if it cannot be written. */
function unwritableAncestor(path: string): { code: string | undefined; dir: string } | undefined {
  for (let current = path; ; current = dirname(current)) {
    if (existsSync(current)) {
      try {
        accessSync(current, constants.W_OK);
        return undefined;
      } catch (error) {
        return { code: errnoCode(error), dir: current };
      }
    }
    if (dirname(current) === current) return undefined;
  }
}

/**
 * A copy into the runtime directory that failed, said for a person: what was copied where and
 * why, with what to do when the file system is full. Keeps the errno as its code.
 */
export function copyFailure(layout: RuntimeLayout, from: string, to: string, error: unknown): NodeJS.ErrnoException {
  const code = errnoCode(error);
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const why = full
    ? `${code} (its file system is full). Give ${layout.runDir} more room (docker run --tmpfs /run:exec,size=64m; a larger emptyDir sizeLimit in Kubernetes), or find what filled it`
    : errorMessage(error);
  return Object.assign(new Error(`cannot copy ${from} to ${to}: ${why}`, { cause: error }), { code: code ?? 'EIO' });
}

/** Copies a services.d entry to its live directory and links it under /run/service. */
export function installLiveService(layout: RuntimeLayout, name: string, sourceDir: string, liveDir: string): void {
  // Made anew, as s6-overlay's services-up removes it first: a copy left from an earlier time
  // the stage came up may hold what the service's user put there (its logger's directory is
  // its own), which root must not copy into or through.
  removeIfPresent(liveDir);
  copyTree(sourceDir, liveDir);
  const link = join(layout.serviceDir, name);
  // Usually there is none yet: one call instead of a look first (a hundred services, a hundred calls).
  try {
    symlinkSync(liveDir, link);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    removeIfPresent(link);
    symlinkSync(liveDir, link);
  }
}

/** An exit code is a few digits; a file this large holds none. */
const EXIT_CODE_FILE_LIMIT = 4096;

/** Reads the exit code a finish script or the CMD left; undefined if none or unreadable. */
export function readExitCode(layout: RuntimeLayout): { code: number } | { problem: string } {
  if (unwrittenExitCode !== undefined) return { code: unwrittenExitCode };
  let text: string;
  try {
    text = withSpareDescriptor(() => readRegularFile(layout.exitCodeFile, EXIT_CODE_FILE_LIMIT)).toString('utf8').trim();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { code: 0 };
    return { problem: `cannot read ${layout.exitCodeFile}: ${whyUnreadable(error)}` };
  }
  if (text === '') return { code: 0 };
  if (!/^\d+$/.test(text)) return { problem: `${layout.exitCodeFile} holds ${JSON.stringify(text)}, which is not an exit code` };
  return { code: Number(text) % 256 };
}

/**
 * An exit code Steward could not write (/run full, say): kept here rather than lost, and
 * used by readExitCode unless the file is written after it.
 */
let unwrittenExitCode: number | undefined;

export function writeExitCode(layout: RuntimeLayout, code: number): void {
  recordStage2Exit(layout.s6Dir, code);
  try {
    withSpareDescriptor(() => writeFileSync(layout.exitCodeFile, `${code}\n`));
    unwrittenExitCode = undefined;
  } catch {
    unwrittenExitCode = code;
  }
}

/** s6-linux-init's haltcode file, beside the exit code: h, p or r. Best effort: nothing reads it but scripts. */
export function writeHaltCode(layout: RuntimeLayout, code: 'h' | 'p' | 'r'): void {
  try {
    withSpareDescriptor(() => writeFileSync(join(dirname(layout.exitCodeFile), 'haltcode'), `${code}\n`));
  } catch {
    // A full /run: the exit code matters, this does not.
  }
}

/**
 * Copies a small directory tree, keeping modes, owners and links, as s6-hiercopy copies a
 * service directory for s6-overlay: a log/ directory the image gave to the user its logger runs
 * as stays writable by it. With `owners: 'own'`, everything is Steward's, as s6-rc-compile makes
 * a longrun's directory. Plain calls: fs.cpSync checks far more than a service directory needs
 * and costs several times as much per file.
 */
export function copyTree(from: string, to: string, owners: 'kept' | 'own' = 'kept'): void {
  const stats = statSync(from);
  const mode = stats.mode & 0o7777;
  // Owner-writable while it is filled, whatever the image's mode, as s6-hiercopy makes it; its
  // own mode is given at the end.
  makeDirectory(to, mode | 0o700);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyTree(source, target, owners);
    else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
      if (owners === 'kept') keepOwner(source, target, false);
    } else if (entry.isFile()) {
      copyFileSync(source, target); // keeps the mode, so run stays executable
      if (owners === 'kept') keepOwner(source, target, true);
      else dropSetId(target);
    }
    // A fifo or socket left in the image (say, an old supervise/ directory) is not copied: it would block.
  }
  if (owners === 'kept') giveOwner(to, stats.uid, stats.gid, false);
  // mkdir's mode goes through the umask (022): a group- or world-writable directory, or one with
  // its sticky or setgid bit (a 1777 spool the service writes into), gets its mode whole, as
  // s6-hiercopy gives it; so does one the owner may not write.
  if ((mode & 0o7022) !== 0 || (mode & 0o700) !== 0o700) chmodSync(to, mode);
}

/** A copy made Steward's own keeps no setuid or setgid bit: another user's set-id program must not become root's. */
function dropSetId(target: string): void {
  const mode = statSync(target).mode & 0o7777;
  if ((mode & 0o6000) !== 0) chmodSync(target, mode & ~0o6000);
}

/** The user Steward's copies belong to unless given to another: whoever Steward runs as. */
const ownUser = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };

/** Gives a copied file or link the owner of its source; a file's setuid or setgid bit survives the chown. */
function keepOwner(source: string, target: string, isFile: boolean): void {
  if (ownUser.uid !== 0) return; // only root gives files away; s6-hiercopy's chown fails there too, unheeded
  const stats = lstatSync(source);
  if (giveOwner(target, stats.uid, stats.gid, true) && isFile && (stats.mode & 0o6000) !== 0) chmodSync(target, stats.mode & 0o7777);
}

/**
 * chown when the owner differs from the copy's; true if it was given. A refusal is let be, as
 * s6-hiercopy lets it be: in a user namespace, an owner outside its map cannot be given, and
 * the copy is still whole.
 */
function giveOwner(target: string, uid: number, gid: number, link: boolean): boolean {
  if (ownUser.uid !== 0 || (uid === ownUser.uid && gid === ownUser.gid)) return false;
  try {
    if (link) lchownSync(target, uid, gid);
    else chownSync(target, uid, gid);
    return true;
  } catch {
    return false;
  }
}

/** mkdir, and its parents only when they are missing: the parent is there for all but the first service. */
function makeDirectory(path: string, mode: number): void {
  try {
    mkdirSync(path, { mode });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw error;
    mkdirSync(path, { recursive: true, mode });
  }
}
