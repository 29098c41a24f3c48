import type { Clock } from '../supervise/clock.js';
import type { ProcessPort, StdioTarget, Termination } from '../sys/spawn.js';
import { processesEnded } from './processes-ended.js';

export interface ScriptOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** SIGKILL the script's process group after this many ms; 0 waits forever. */
  timeLimitMs: number;
  /** Aborting sends SIGTERM to the script's process group. */
  abortSignal?: AbortSignal;
  /**
   * After an abort, SIGKILL the group if the script, or anything of its group, is still
   * running this many ms later (S6_KILL_GRACETIME): a stop must not wait forever on a script
   * that ignores TERM, nor run the finish scripts while it or what it runs still runs.
   */
  abortKillMs?: number;
  /**
   * Whether the stop was asked for from inside the script's own session (it ran halt itself,
   * as NPM's prepare and many cont-init scripts do before `exit 1`): the abort then leaves it
   * `abortKillMs` to end by itself before the SIGTERM, so its exit status is its own.
   */
  stopAskedFromItsSession?: (session: number) => boolean;
  args?: readonly string[];
  /**
   * A file the kernel will not execute (ENOEXEC: no shebang line) runs with /bin/sh, as a
   * shell (and s6-overlay's sh-based runners of cont-init.d and the CMD) would run it.
   */
  shellFallback?: boolean;
  /** Where its output goes; the container's by default. */
  output?: { readonly stdout: StdioTarget; readonly stderr: StdioTarget };
  /** Told once the process runs (execline's background goes on then). */
  onStarted?: (pid: number) => void;
}

export type ScriptResult =
  /** `endedAfterItsOwnStop`: it asked for the stop and ended by itself before being signalled. */
  | { kind: 'exited'; termination: Termination; timedOut: boolean; endedAfterItsOwnStop: boolean }
  | { kind: 'spawn-error'; error: NodeJS.ErrnoException };

/**
 * Runs one init or finish script to completion in its own session, so a time limit
 * or an abort can reach everything it started.
 */
export async function runScript(path: string, port: ProcessPort, clock: Clock, options: ScriptOptions): Promise<ScriptResult> {
  const result = await runOnce(path, options.args ?? [], port, clock, options);
  if (result.kind !== 'spawn-error' || result.error.code !== 'ENOEXEC' || options.shellFallback !== true) return result;
  return runOnce('/bin/sh', [path, ...(options.args ?? [])], port, clock, options);
}

/** How long past the SIGKILL what a stopped script left is waited for: a process stuck in the kernel (D state) does not hold the stop. */
const KILLED_GROUP_WAIT_MS = 1000;

function runOnce(file: string, args: readonly string[], port: ProcessPort, clock: Clock, options: ScriptOptions): Promise<ScriptResult> {
  return new Promise((resolve) => {
    let timedOut = false;
    let cancelTimer: (() => void) | undefined;
    let cancelAbortKill: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    /** When the group gets its SIGKILL after an abort; undefined before an abort. */
    let abortKillAt: number | undefined;
    let group: number | undefined;
    let ownStop = false;
    let signalled = false;
    let cancelOwnStopGrace: (() => void) | undefined;
    /** The abort's TERM to the group, then its KILL; set once the script runs. */
    let stopGroup: (() => void) | undefined;
    const cleanUp = (): void => {
      cancelTimer?.();
      cancelAbortKill?.();
      cancelOwnStopGrace?.();
      if (onAbort !== undefined) options.abortSignal?.removeEventListener('abort', onAbort);
    };
    const onSpawned = (pid: number): void => {
      options.onStarted?.(pid);
      group = pid;
      const everyone = -pid;
      if (options.timeLimitMs > 0) {
        cancelTimer = clock.schedule(options.timeLimitMs, () => {
          timedOut = true;
          port.signal(everyone, 'SIGKILL');
        });
      }
      if (options.abortSignal !== undefined) {
        const stop = (): void => {
          cancelOwnStopGrace?.();
          signalled = true;
          port.signal(everyone, 'SIGTERM');
          port.signal(everyone, 'SIGCONT');
          if (options.abortKillMs !== undefined) {
            abortKillAt = clock.now() + options.abortKillMs;
            cancelAbortKill = clock.schedule(options.abortKillMs, () => port.signal(everyone, 'SIGKILL'));
          }
        };
        onAbort = () => {
          if (options.abortKillMs === undefined || options.stopAskedFromItsSession?.(pid) !== true) {
            stop();
            return;
          }
          ownStop = true;
          // Until the TERM, what it left is waited for as after one (abortKillAt set).
          abortKillAt = clock.now() + 2 * options.abortKillMs;
          cancelOwnStopGrace = clock.schedule(options.abortKillMs, stop);
        };
        stopGroup = stop;
        if (options.abortSignal.aborted) onAbort();
        else options.abortSignal.addEventListener('abort', onAbort, { once: true });
      }
    };
    port.spawn(
      {
        file,
        args,
        cwd: options.cwd,
        env: options.env,
        stdin: 'ignore',
        stdout: options.output?.stdout ?? 'inherit',
        stderr: options.output?.stderr ?? 'inherit',
        newSession: true,
      },
      {
        onSpawned,
        onExit: (termination) => {
          const endedAfterItsOwnStop = ownStop && !signalled;
          const done = (): void => {
            cleanUp();
            resolve({ kind: 'exited', termination, timedOut, endedAfterItsOwnStop });
          };
          // Ended by itself after its own halt: what it left running (its group) gets the stop's
          // TERM now, and the KILL after the grace, as after any other stop.
          if (endedAfterItsOwnStop) stopGroup?.();
          // Stopped: the shell often dies of the TERM while the program it ran (initdb, a
          // migration) is still cleaning up. The stop goes on once the group is gone, as
          // s6-overlay's shutdown waits for the boot's transition, with the SIGKILL still due.
          if (abortKillAt === undefined || group === undefined || port.groupMembers === undefined) {
            done();
            return;
          }
          const members = port.groupMembers.bind(port, group);
          processesEnded(clock, abortKillAt + KILLED_GROUP_WAIT_MS, members).then(done, done);
        },
        onSpawnError: (error) => {
          cleanUp();
          resolve({ kind: 'spawn-error', error });
        },
      },
    );
  });
}
