import type { Clock } from '../supervise/clock.js';
import type { ProcessPort, StdioTarget, Termination } from '../sys/spawn.js';

export interface ScriptOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** SIGKILL the script's process group after this many ms; 0 waits forever. */
  timeLimitMs: number;
  /** Aborting sends SIGTERM to the script's process group. */
  abortSignal?: AbortSignal;
  /**
   * After an abort, SIGKILL the group if the script is still running this many ms later
   * (S6_KILL_GRACETIME): a stop must not wait forever on a script that ignores TERM, nor run
   * the finish scripts while it still runs.
   */
  abortKillMs?: number;
  args?: readonly string[];
  /**
   * A file the kernel will not execute (ENOEXEC: no shebang line) runs with /bin/sh, as a
   * shell (and s6-overlay's sh-based runners of cont-init.d and the CMD) would run it.
   */
  shellFallback?: boolean;
  /** Where its output goes; the container's by default. */
  output?: { readonly stdout: StdioTarget; readonly stderr: StdioTarget };
  /** Told once the process runs (execline's background goes on then). */
  onStarted?: () => void;
}

export type ScriptResult =
  | { kind: 'exited'; termination: Termination; timedOut: boolean }
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

function runOnce(file: string, args: readonly string[], port: ProcessPort, clock: Clock, options: ScriptOptions): Promise<ScriptResult> {
  return new Promise((resolve) => {
    let timedOut = false;
    let cancelTimer: (() => void) | undefined;
    let cancelAbortKill: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    const cleanUp = (): void => {
      cancelTimer?.();
      cancelAbortKill?.();
      if (onAbort !== undefined) options.abortSignal?.removeEventListener('abort', onAbort);
    };
    const onSpawned = (pid: number): void => {
      options.onStarted?.();
      const group = -pid;
      if (options.timeLimitMs > 0) {
        cancelTimer = clock.schedule(options.timeLimitMs, () => {
          timedOut = true;
          port.signal(group, 'SIGKILL');
        });
      }
      if (options.abortSignal !== undefined) {
        onAbort = () => {
          port.signal(group, 'SIGTERM');
          port.signal(group, 'SIGCONT');
          if (options.abortKillMs !== undefined) cancelAbortKill = clock.schedule(options.abortKillMs, () => port.signal(group, 'SIGKILL'));
        };
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
          cleanUp();
          resolve({ kind: 'exited', termination, timedOut });
        },
        onSpawnError: (error) => {
          cleanUp();
          resolve({ kind: 'spawn-error', error });
        },
      },
    );
  });
}
