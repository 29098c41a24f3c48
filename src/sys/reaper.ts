import { reapIfExited } from './ffi.js';
import { listChildren } from './proc.js';
import { childEvents, ownChildren } from './spawn.js';

/**
 * Reaps orphans that the kernel reparented to us. libuv waits only for the children
 * Node spawned, so anything else would stay a zombie. We list our children and wait
 * for each one by pid, skipping Node's own: waitpid(-1) would steal their statuses.
 */
export class Reaper {
  #reaped = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #onSignal = (): void => {
    this.reap();
  };
  readonly #onChildExit = (): void => this.#checkIdle();

  start(): void {
    process.on('SIGCHLD', this.#onSignal);
    childEvents.on('exit', this.#onChildExit);
    // Children may have died before the handler existed.
    this.reap();
  }

  stop(): void {
    process.off('SIGCHLD', this.#onSignal);
    childEvents.off('exit', this.#onChildExit);
  }

  get reapedCount(): number {
    return this.#reaped;
  }

  /** Collects every exited orphan now. Returns how many were collected. */
  reap(): number {
    let count = 0;
    for (const pid of listChildren()) {
      if (ownChildren.has(pid)) continue;
      if (reapIfExited(pid)) count++;
    }
    this.#reaped += count;
    this.#checkIdle();
    return count;
  }

  /** Resolves once this process has no children left at all. */
  whenNoChildren(): Promise<void> {
    if (listChildren().length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    if (listChildren().length > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
