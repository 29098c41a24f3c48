import type { ControlTarget } from '../target.js';

/** What a command handler gets besides its request. */
export interface CommandContext {
  readonly target: ControlTarget;
  /** Epoch ms. */
  now(): number;
  /** Aborted when the client goes away or the server closes: long waits end then. */
  readonly abortSignal: AbortSignal;
}
