import { writeSync } from 'node:fs';

/**
 * Output of the command-line tools, written straight to descriptors 1 and 2.
 *
 * These tools run inside services (s6-svc in a finish script, s6-svstat in a check) whose
 * stdout is shared with every other service. Node's process.stdout would put that shared
 * pipe in non-blocking mode for as long as the tool runs, and another service writing
 * then could lose output. A tool's output is small: a blocking write is what it needs.
 */
export function writeOut(text: string): void {
  writeAll(1, text);
}

export function writeErr(text: string): void {
  writeAll(2, text);
}

/** How long to wait before writing again to a full pipe someone else made non-blocking. */
const FULL_PIPE_WAIT_MS = 1;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Why the output could not be written (a full disk, say), if it could not; a closed pipe does not count. */
let outputFailure: string | undefined;

/**
 * The error that kept the command's output from being written, if one did: the command then
 * fails, so that `steward status --json > file` on a full volume does not pass for a success.
 * A reader that went away (EPIPE: `| head`) is not one, as for every tool in a pipeline.
 */
export function outputFailed(): string | undefined {
  return outputFailure;
}

function writeAll(fd: number, text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, FULL_PIPE_WAIT_MS);
        continue;
      }
      if (code !== 'EPIPE' && fd === 1) outputFailure ??= code ?? String(error);
      return;
    }
  }
}
