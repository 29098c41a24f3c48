/**
 * PID 1 has no default action for a signal it has no handler for: the kernel drops it. Until
 * the init's own handlers are in place (its bundle takes tens of milliseconds to load), a
 * `docker stop` would be lost, and the container killed ten seconds later. So the entry
 * point holds the signals that come meanwhile, as its first statement, and the init takes
 * them once its handlers are ready. The holder lives on globalThis because the loader and
 * the init bundle are separate modules.
 */
export const HELD_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGWINCH'] as const;

const HOLDER = Symbol.for('steward.heldSignals');

interface Holder {
  readonly held: NodeJS.Signals[];
  readonly listener: (signal: NodeJS.Signals) => void;
}

type WithHolder = typeof globalThis & { [HOLDER]?: Holder };

export function holdSignals(): void {
  const scope = globalThis as WithHolder;
  if (scope[HOLDER] !== undefined) return;
  const held: NodeJS.Signals[] = [];
  const listener = (signal: NodeJS.Signals): void => {
    held.push(signal);
  };
  for (const signal of HELD_SIGNALS) process.on(signal, listener);
  scope[HOLDER] = { held, listener };
}

/** The signals held so far, in order, left held. */
export function heldSignals(): readonly NodeJS.Signals[] {
  return (globalThis as WithHolder)[HOLDER]?.held ?? [];
}

/** Signals an earlier start of this process held (see node-options-restart.ts), before the ones held since. */
export function holdEarlier(signals: readonly NodeJS.Signals[]): void {
  holdSignals();
  (globalThis as WithHolder)[HOLDER]?.held.unshift(...signals);
}

/** The signals held so far, in order; from now on they are the caller's to handle. */
export function takeHeldSignals(): NodeJS.Signals[] {
  const scope = globalThis as WithHolder;
  const holder = scope[HOLDER];
  if (holder === undefined) return [];
  for (const signal of HELD_SIGNALS) process.off(signal, holder.listener);
  delete scope[HOLDER];
  return holder.held;
}
