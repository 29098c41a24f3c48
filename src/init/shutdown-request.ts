import { setMaxListeners } from 'node:events';

/**
 * Why the container is stopping. The first request wins; later ones join it, so a
 * second SIGTERM during shutdown never starts a second shutdown.
 */
export type ShutdownReason =
  | { kind: 'signal'; signal: NodeJS.Signals }
  /**
   * `fromSession`: the session of the process that asked, when known (see askedFromSession);
   * `action`: poweroff and reboot, as s6-overlay's commands of those names (halt otherwise).
   */
  | { kind: 'halt'; fromSession?: number; action?: 'poweroff' | 'reboot' }
  | { kind: 'cmd-exit'; status: number; description: string }
  | { kind: 'boot-failure'; status: number; message: string }
  | { kind: 'internal-error'; message: string };

export class ShutdownRequest {
  #reason: ShutdownReason | undefined;
  readonly #controller = new AbortController();
  readonly #requested: Promise<ShutdownReason>;
  #resolve!: (reason: ShutdownReason) => void;

  constructor() {
    this.#requested = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    // Every boot step and control request under way listens to it, and lets go when done: past
    // ten at once, Node would print a MaxListenersExceededWarning into the container's log.
    setMaxListeners(0, this.#controller.signal);
  }

  /** Returns true for the request that started the shutdown, false for one that joined it. */
  request(reason: ShutdownReason): boolean {
    if (this.#reason !== undefined) return false;
    this.#reason = reason;
    this.#controller.abort('the container is stopping');
    this.#resolve(reason);
    return true;
  }

  get reason(): ShutdownReason | undefined {
    return this.#reason;
  }

  /**
   * Whether the stop is a halt asked for from inside the session `session` leads: a boot script
   * (each runs in a session of its own) that ran halt itself, and is let end by itself.
   */
  askedFromSession(session: number): boolean {
    return this.#reason?.kind === 'halt' && this.#reason.fromSession === session;
  }

  #lastStage = false;

  /**
   * s6-linux-init's halt code for this stop, as its haltcode file holds it: r for a reboot (SIGINT,
   * the reboot command), p for a poweroff (SIGUSR1, SIGPWR, poweroff), h for everything else.
   */
  haltCode(): 'h' | 'p' | 'r' {
    const reason = this.#reason;
    if (reason?.kind === 'halt') return reason.action === 'reboot' ? 'r' : reason.action === 'poweroff' ? 'p' : 'h';
    if (reason?.kind === 'signal') return reason.signal === 'SIGINT' ? 'r' : reason.signal === 'SIGUSR1' || reason.signal === 'SIGPWR' ? 'p' : 'h';
    return 'h';
  }

  /** The last stage has begun: every process left gets SIGTERM, then SIGKILL. */
  enterLastStage(): void {
    this.#lastStage = true;
  }

  /**
   * Whether the last stage has begun. Until then, a CMD that ends by itself still leaves its
   * status as the container's exit code, as s6-overlay's rc.init does; killed by the last
   * stage's signals, it does not (rc.init is killed with it).
   */
  get inLastStage(): boolean {
    return this.#lastStage;
  }

  /** Aborted as soon as a shutdown is requested: boot steps listen to it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get requested(): Promise<ShutdownReason> {
    return this.#requested;
  }
}

export function describeReason(reason: ShutdownReason): string {
  switch (reason.kind) {
    case 'signal':
      return `received ${reason.signal}`;
    case 'halt':
      return `${reason.action ?? 'halt'} requested`;
    case 'cmd-exit':
      return `the command ${reason.description}`;
    case 'boot-failure':
      return reason.message;
    case 'internal-error':
      return `internal error: ${reason.message}`;
  }
}
