import type { ServiceStatus, ServiceSupervisor } from './supervisor.js';

/**
 * Resolves with true once every supervisor's status meets `predicate`, or with false when
 * `signal` aborts first. Unlike one waitFor() per service, it adds a single abort listener:
 * an AbortSignal checks each new listener against all the others, which a boot of hundreds
 * of services would pay for every service. Every subscription is removed either way.
 */
export function waitForAll(supervisors: Iterable<ServiceSupervisor>, predicate: (status: ServiceStatus) => boolean, signal: AbortSignal): Promise<boolean> {
  const pending = new Set([...supervisors].filter((supervisor) => !predicate(supervisor.status)));
  if (pending.size === 0) return Promise.resolve(true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const unsubscribes: (() => void)[] = [];
    const finish = (reached: boolean): void => {
      for (const unsubscribe of unsubscribes) unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(reached);
    };
    const onAbort = (): void => finish(false);
    for (const supervisor of pending) {
      unsubscribes.push(
        supervisor.subscribe(() => {
          if (!pending.has(supervisor) || !predicate(supervisor.status)) return;
          pending.delete(supervisor);
          if (pending.size === 0) finish(true);
        }),
      );
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
