import { closeSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode, errorMessage } from '../errors.js';
import { createPipe } from '../sys/ffi/descriptors.js';
import type { InitContext } from './context.js';
import { isBusyBox } from '../sys/busybox.js';
import type { Termination } from '../sys/spawn.js';
import type { ServiceSet } from './service-set.js';

/**
 * /bin/sh by a link named s6-svscan: the kernel names a process after the file it runs, so
 * `pgrep s6-svscan` finds the stand-in, as health checks of s6-overlay images look for PID 1
 * (TundraSoft's `ps aux | grep '[s]6-svscan'`). /bin/sh itself when the link cannot be made.
 */
function shellNamedSvscan(dir: string): string {
  const link = join(dir, 's6-svscan');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    symlinkSync('/bin/sh', link);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') return '/bin/sh';
  }
  return link;
}

/** How soon a stand-in that died (a `pkill -f` matching a service name) is started again: s6-svscan's pause for a dead s6-supervise. */
const RESPAWN_DELAY_MS = 1000;

interface StandIn {
  readonly writeFd: number;
}

/**
 * s6-overlay has one `s6-supervise NAME` process per service, and images test for it: after a
 * certificate renewal, linuxserver's swag starts nginx again only when
 * `pgrep -f "s6-supervise svc-nginx"` finds one, and left it down for good under Steward.
 * Steward supervises from its own process, so it keeps one small stand-in whose command line
 * names every service as s6-supervise's would, after s6-svscan's own: `/run/s6/stand-in/s6-svscan
 * -c 'read _' s6-svscan -d4 -- /run/service s6-supervise NAME ...` (a shell, by a link of that name),
 * blocked reading a pipe Steward never writes to. Closing the pipe ends it, and so does
 * Steward's own end. One shell in all, not one process per service.
 */
export class SuperviseNames {
  #current: StandIn | undefined;
  #shown = '';
  #closed = false;
  #respawn: NodeJS.Timeout | undefined;
  /** /bin/sh refused the link's name as its argv[0] (BusyBox): it is told it is sh. */
  #toldSh = false;

  constructor(private readonly context: InitContext) {}

  /**
   * Shows the supervised services once the boot is over, then again after each service
   * directory installed since (a scan, a longrun brought in at run time) or forgotten (pruned
   * from the scan directory), once per turn of the event loop at most.
   */
  follow(services: ServiceSet, bootOver: Promise<void>): void {
    let following = false;
    let pending = false;
    const showAll = (): void => this.show([...services.supervisors.keys()]);
    const showSoon = (): void => {
      if (!following || pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        showAll();
      });
    };
    services.whenInstalled(showSoon);
    services.whenForgotten(showSoon);
    bootOver
      .then(() => {
        following = true;
        showAll();
      })
      .catch(() => undefined);
  }

  /** Shows these names, replacing the stand-in when they changed. */
  show(names: readonly string[]): void {
    const sorted = [...names].sort();
    const key = sorted.join('\n');
    if (this.#closed || key === this.#shown) return;
    this.#shown = key;
    const previous = this.#current;
    this.#current = sorted.length === 0 ? undefined : this.#start(sorted);
    if (previous !== undefined) closeSync(previous.writeFd);
  }

  /** At shutdown, before the services stop: s6-overlay's supervisors end with them. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#respawn);
    if (this.#current !== undefined) closeSync(this.#current.writeFd);
    this.#current = undefined;
  }

  #start(names: readonly string[]): StandIn | undefined {
    let pipe: { readFd: number; writeFd: number };
    try {
      pipe = createPipe();
    } catch (error) {
      this.context.reporter.debug('steward', `no s6-supervise stand-in: ${errorMessage(error)}`);
      return undefined;
    }
    const { reporter, layout } = this.context;
    const standIn: StandIn = { writeFd: pipe.writeFd };
    const link = shellNamedSvscan(join(layout.s6Dir, 'stand-in'));
    this.context.port.spawn(
      {
        file: link,
        // The kernel names the process after the link it runs (s6-svscan), and so does argv[0],
        // which pidof matches; but BusyBox's sh, Alpine's, picks its applet from argv[0] and has
        // none named s6-svscan: that one is told it is sh (known by its name, or by its exit 127).
        argv0: this.#toldSh || isBusyBox('/bin/sh') ? 'sh' : link,
        // $0 is the first word after the script: the command line reads "s6-svscan ... -- /run/service
        // s6-supervise NAME s6-supervise NAME2 ...".
        args: ['-c', 'read _', 's6-svscan', '-d4', '--', layout.serviceDir, ...names.flatMap((name) => ['s6-supervise', name])],
        cwd: '/',
        env: { PATH: '/usr/bin:/bin' },
        stdin: pipe.readFd,
        stdout: 'ignore',
        stderr: 'ignore',
        newSession: true,
      },
      {
        onSpawned: () => closeSync(pipe.readFd),
        onExit: (termination) => this.#ended(standIn, names, termination),
        onSpawnError: (error) => {
          closeSync(pipe.readFd);
          reporter.debug('steward', `no s6-supervise stand-in: ${errorMessage(error)}`);
        },
      },
    );
    return standIn;
  }

  /**
   * A stand-in ends when Steward closes its pipe (replaced, or at shutdown), or when something
   * kills it: a `pkill -f NAME` meant for a service matches its command line too. s6-svscan
   * starts a dead s6-supervise again a second later; so is the stand-in, with the same names.
   */
  #ended(standIn: StandIn, names: readonly string[], termination: Termination): void {
    if (this.#closed || this.#current !== standIn) return;
    this.#current = undefined;
    this.#shown = '';
    closeSync(standIn.writeFd);
    clearTimeout(this.#respawn);
    // A BusyBox not known by its name ("s6-svscan: applet not found"): told it is sh, at once.
    const refusedName = termination.code === 127 && !this.#toldSh;
    if (refusedName) this.#toldSh = true;
    this.#respawn = setTimeout(() => {
      this.#respawn = undefined;
      // Unless names came meanwhile, which started one of their own.
      if (this.#current === undefined) this.show(names);
    }, refusedName ? 0 : RESPAWN_DELAY_MS);
    this.#respawn.unref();
  }
}
