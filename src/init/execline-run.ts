import type { ExeclineProgram } from '../model/rc.js';
import type { Clock } from '../supervise/clock.js';
import { signalNumber } from '../sys/signals.js';
import type { ProcessPort, StdioTarget } from '../sys/spawn.js';
import { runScript } from './run-script.js';
import { whyNotExecutable } from './spawn-failure.js';

export interface ProgramOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  abortSignal: AbortSignal;
  /** After an abort, how long a program has before SIGKILL. */
  abortKillMs: number;
  /** See ScriptOptions: a program whose session asked for the stop is let end by itself. */
  stopAskedFromItsSession?: (session: number) => boolean;
  output: { readonly stdout: StdioTarget; readonly stderr: StdioTarget };
  /** A warning or fatal line of execline's own, as its foreground, background and if print them. */
  warn?: (line: string) => void;
  /** Told when the program's first process runs. */
  onStarted?: () => void;
  /** Told of each block's process as it runs (its pid leads its session). */
  startedBlock?: (pid: number) => void;
}

/** How a program ended; `spawnFailure` names the program that could not be started, and why. */
export type ProgramResult = {
  readonly status: number;
  readonly description: string;
  readonly spawnFailure?: string;
  /** It asked for the stop itself (halt) and ended by itself before being signalled. */
  readonly endedAfterItsOwnStop?: boolean;
};

/** execline's exit code when a block it must start cannot be: its strerr_diefu "unable to spawn". */
const UNABLE_TO_SPAWN = 111;

/**
 * Runs an execline program from an up or down file: the exec chain, and the
 * foreground, background and if blocks, with execline's meaning. The status is the
 * shell-style exit status (128 + N for signal N); spawn errors give 126 or 127.
 */
export function runProgram(program: ExeclineProgram, port: ProcessPort, clock: Clock, options: ProgramOptions): Promise<ProgramResult> {
  const asked = options.stopAskedFromItsSession;
  if (asked === undefined) return runBlocks(program, port, clock, options);
  // One chain under s6-rc, each block in a session of its own here: a halt one block ran (a
  // foreground { halt } before the script that cleans up and exits 1) is the whole program's.
  const sessions: number[] = [];
  return runBlocks(program, port, clock, {
    ...options,
    stopAskedFromItsSession: (session) => asked(session) || sessions.some((earlier) => asked(earlier)),
    startedBlock: (pid) => sessions.push(pid),
  });
}

async function runBlocks(program: ExeclineProgram, port: ProcessPort, clock: Clock, options: ProgramOptions): Promise<ProgramResult> {
  switch (program.kind) {
    case 'noop':
      return { status: 0, description: 'did nothing' };
    case 'exec':
      return runArgv(program.argv, port, clock, options);
    case 'background': {
      // Started and not waited for (the reaper collects it); one that cannot start ends the
      // program with 111, as execline's background dies then.
      const failure = await new Promise<ProgramResult | undefined>((resolve) => {
        void runBlocks(program.block, port, clock, { ...options, onStarted: () => resolve(undefined) }).then((result) => resolve(cannotStart(program.block, result) ? result : undefined));
      });
      if (failure !== undefined) return unableToSpawn('background', failure, options);
      return runBlocks(program.then, port, clock, options);
    }
    case 'foreground': {
      // A block that cannot start is a warning, and the program goes on, as execline's foreground.
      const result = await runBlocks(program.block, port, clock, options);
      if (cannotStart(program.block, result)) options.warn?.(`foreground: warning: unable to spawn ${result.spawnFailure ?? ''}`);
      return runBlocks(program.then, port, clock, options);
    }
    case 'if': {
      const result = await runBlocks(program.block, port, clock, options);
      if (cannotStart(program.block, result)) return unableToSpawn('if', result, options);
      const succeeded = result.status === 0;
      if (succeeded === program.negate) return program.negate ? { status: 1, description: 'the if -n block succeeded' } : result;
      return runBlocks(program.then, port, clock, options);
    }
  }
}

async function runArgv(argv: readonly string[], port: ProcessPort, clock: Clock, options: ProgramOptions): Promise<ProgramResult> {
  const [file, ...args] = argv;
  if (file === undefined) return { status: 0, description: 'did nothing' };
  const result = await runScript(file, port, clock, {
    env: options.env,
    cwd: options.cwd,
    timeLimitMs: 0,
    abortSignal: options.abortSignal,
    abortKillMs: options.abortKillMs,
    args,
    output: options.output,
    onStarted: (pid) => {
      options.startedBlock?.(pid);
      options.onStarted?.();
    },
    ...(options.stopAskedFromItsSession === undefined ? {} : { stopAskedFromItsSession: options.stopAskedFromItsSession }),
  });
  if (result.kind === 'spawn-error') {
    const notFound = result.error.code === 'ENOENT';
    // A file given by path that is there but cannot run (no interpreter, say) is told apart from one not found.
    const why = file.includes('/') ? whyNotExecutable(file, result.error, 'program') : notFound ? 'not found' : (result.error.code ?? result.error.message);
    return { status: notFound ? 127 : 126, description: `cannot run ${file}: ${why}`, spawnFailure: `${file}: ${why}` };
  }
  const { termination, endedAfterItsOwnStop } = result;
  if (termination.signal !== null) return { status: 128 + signalNumber(termination.signal), description: `crashed with ${termination.signal}`, endedAfterItsOwnStop };
  return { status: termination.code ?? 0, description: `exited ${termination.code ?? 0}`, endedAfterItsOwnStop };
}

function unableToSpawn(command: string, failure: ProgramResult, options: ProgramOptions): ProgramResult {
  const line = `${command}: fatal: unable to spawn ${failure.spawnFailure ?? failure.description}`;
  options.warn?.(line);
  return { status: UNABLE_TO_SPAWN, description: line };
}

/**
 * Whether a block's own process could not be started. A block that is a chain (foreground
 * inside foreground) did start: the program it execs last failing is that process's exit.
 */
function cannotStart(block: ExeclineProgram, result: ProgramResult): boolean {
  return block.kind === 'exec' && result.spawnFailure !== undefined;
}
