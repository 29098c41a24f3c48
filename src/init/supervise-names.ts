import { closeSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode, errorMessage } from '../errors.js';
import { createPipe } from '../sys/ffi/descriptors.js';
import type { InitContext } from './context.js';
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
 * names every service as s6-supervise's would, after s6-svscan's own: `sh -c 'read _'
 * s6-svscan -d4 -- /run/service s6-supervise NAME ...` (a shell, run by a link named s6-svscan),
 * blocked reading a pipe Steward never writes to. Closing the pipe ends it, and so does
 * Steward's own end. One shell in all, not one process per service.
 */
export class SuperviseNames {
  #current: StandIn | undefined;
  #shown = '';
  #closed = false;
  #respawn: NodeJS.Timeout | undefined;

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
    this.context.port.spawn(
      {
        file: shellNamedSvscan(join(layout.s6Dir, 'stand-in')),
        // The kernel names the process after the link it runs (s6-svscan); the shell is told
        // it is sh: BusyBox's, Alpine's /bin/sh, picks its applet from that name, and has none
        // named s6-svscan.
        argv0: 'sh',
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
        onExit: () => this.#ended(standIn, names),
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
  #ended(standIn: StandIn, names: readonly string[]): void {
    if (this.#closed || this.#current !== standIn) return;
    this.#current = undefined;
    this.#shown = '';
    closeSync(standIn.writeFd);
    clearTimeout(this.#respawn);
    this.#respawn = setTimeout(() => {
      this.#respawn = undefined;
      // Unless names came meanwhile, which started one of their own.
      if (this.#current === undefined) this.show(names);
    }, RESPAWN_DELAY_MS);
    this.#respawn.unref();
  }
}
