/**
 * The states of one supervised longrun and the only edges between them.
 *
 *   down ──start──▶ starting ──ready──▶ ready        (with a notification fd)
 *   down ──start──▶ up                               (without one: up is as ready as it gets)
 *   starting|up|ready ──down()──▶ stopping
 *   starting|up|ready|stopping ──exit──▶ finishing (finish script) ──▶ backoff | down | failed
 *   backoff ──timer──▶ starting|up
 */
export type ServiceState = 'down' | 'starting' | 'up' | 'ready' | 'stopping' | 'finishing' | 'backoff' | 'failed';

const edges: Record<ServiceState, readonly ServiceState[]> = {
  down: ['starting', 'up', 'backoff'],
  backoff: ['starting', 'up', 'down', 'backoff', 'failed'],
  starting: ['ready', 'stopping', 'finishing', 'backoff', 'down', 'failed'],
  up: ['stopping', 'finishing', 'backoff', 'down', 'failed'],
  ready: ['stopping', 'finishing', 'backoff', 'down', 'failed'],
  stopping: ['finishing', 'backoff', 'down', 'failed'],
  finishing: ['backoff', 'down', 'failed', 'starting', 'up'],
  failed: ['starting', 'up', 'backoff', 'down'],
};

export function assertTransition(name: string, from: ServiceState, to: ServiceState): void {
  if (!edges[from].includes(to)) throw new RangeError(`Service ${name} cannot go from ${from} to ${to}`);
}

/** The run process exists. */
export function isRunning(state: ServiceState): boolean {
  return state === 'starting' || state === 'up' || state === 'ready' || state === 'stopping';
}
