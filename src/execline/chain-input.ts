import { closeSync, readSync, writeSync } from 'node:fs';

import type { ChainState } from './state.js';

/**
 * A descriptor of the chain (its standard input or output) as a descriptor of this process.
 * The interpreter has applied none of the chain's descriptor moves to itself, so fd 0 of the
 * chain may be a pipe end (pipeline), a file redirfd opened or another inherited descriptor
 * (fdmove): the moves are followed to find it. `close` is true when it was opened for this.
 */
export function chainDescriptor(state: ChainState, target: number): { readonly fd: number; readonly close: boolean } | undefined {
  const sources = new Map<number, number | 'closed'>();
  const sourceOf = (fd: number): number | 'closed' => sources.get(fd) ?? fd;
  for (const action of state.actions) {
    if (action.kind === 'dup') sources.set(action.to, sourceOf(action.from));
    else sources.set(action.fd, 'closed');
  }
  const source = sourceOf(target);
  if (source === 'closed') return undefined;
  return { fd: source, close: false };
}

/**
 * Reads the chain's standard input chunk by chunk as it comes (a producer that runs for long,
 * as with `pipeline { inotifywait -m ... } forstdin`, is served line by line), until EOF.
 * Returns false when there was no input to read at all (fd 0 closed).
 */
export function readChainInput(state: ChainState, onChunk: (chunk: Buffer) => boolean | void): boolean {
  const input = chainDescriptor(state, 0);
  if (input === undefined) return false;
  const buffer = Buffer.alloc(65536);
  try {
    for (;;) {
      let count: number;
      try {
        count = readSync(input.fd, buffer, 0, buffer.length, null);
      } catch (error) {
        // A non-blocking descriptor with nothing yet: wait a moment, then read again.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          continue;
        }
        throw error;
      }
      if (count === 0) return true;
      if (onChunk(Buffer.from(buffer.subarray(0, count))) === false) return true;
    }
  } finally {
    if (input.close) closeSync(input.fd);
  }
}

/** The whole of the chain's standard input. */
export function readAllChainInput(state: ChainState): Buffer {
  const chunks: Buffer[] = [];
  readChainInput(state, (chunk) => {
    chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/** Writes `text` to the chain's standard output; throws with the errno code when it cannot. */
export function writeChainOutput(state: ChainState, text: string): void {
  const output = chainDescriptor(state, 1);
  if (output === undefined) throw Object.assign(new Error('stdout is closed'), { code: 'EBADF' });
  try {
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += writeSync(output.fd, bytes, written);
  } finally {
    if (output.close) closeSync(output.fd);
  }
}
