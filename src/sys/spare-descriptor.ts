import { closeSync, openSync } from 'node:fs';

/**
 * Descriptors held back for when every other one is in use. With the limit spent by the
 * services' pipes, PID 1 must still find and reap its children (a CMD left a zombie would
 * keep the container up forever), record the exit code and signal what is left at
 * shutdown; each of those takes one descriptor at a time, so one spare is enough.
 * A second one is handed to libuv: see releaseSpareForLibuv.
 */
let spare: number | undefined;
let spareForLibuv: number | undefined;

/** Takes the spares now, while descriptors are free. Idempotent. */
export function reserveSpareDescriptors(): void {
  spare ??= tryOpenNull();
  spareForLibuv ??= tryOpenNull();
}

/**
 * Runs `action`; if it fails for want of a descriptor, gives it the spare and runs it once
 * more. Synchronous, so no other code of ours runs in between and takes the slot.
 */
export function withSpareDescriptor<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (!outOfDescriptors(error)) throw error;
    if (spare === undefined) {
      // Lost earlier (its slot was taken before it could be reopened): take it back when free.
      spare = tryOpenNull();
      throw error;
    }
    closeSync(spare);
    spare = undefined;
    try {
      return action();
    } finally {
      spare = tryOpenNull();
    }
  }
}

/**
 * libuv keeps one descriptor of its own to accept-and-drop connections when a listening
 * socket hits the limit, and opens it when it sets up its first stream. Steward sets up its
 * first stream late (the control socket is served once the first services start), when
 * the services may have spent the limit: libuv then has no spare, and a connection to the
 * control socket makes it retry accept() forever at full CPU. Freeing this slot just before
 * the first stream is set up lets libuv take it. Called once; later calls do nothing.
 */
export function releaseSpareForLibuv(): void {
  if (spareForLibuv === undefined) return;
  closeSync(spareForLibuv);
  spareForLibuv = undefined;
}

function outOfDescriptors(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

function tryOpenNull(): number | undefined {
  try {
    return openSync('/dev/null', 'r');
  } catch {
    return undefined;
  }
}
