/**
 * `NAME.dep` files in a services.d service's directory: the convention of the s6-overlay fork
 * that jlesage's GUI base images shipped (baseimage v2, baseimage-gui v3: HandBrake, Firefox,
 * MakeMKV...), whose stage 2 starts the services one at a time in the order the files give,
 * each once the ones it names are up (ready, for one with a notification-fd), each wait bounded
 * by S6_WAIT_FOR_SERVICE_MAXTIME, and whose stage 3 stops them in the reverse order. An app
 * started before its X server answers dies of "cannot open display".
 *
 * Steward starts the services without such files at once, as it starts every services.d
 * service, and those with them afterwards, in this order, each once what it names is up.
 */

/** The fork's default for S6_WAIT_FOR_SERVICE_MAXTIME. */
const WAIT_DEFAULT_MS = 5000;

export interface DepOrder {
  /** The services with `.dep` files, each after those of them it names. */
  readonly order: readonly string[];
  /** What each of them waits for: the services it names that exist. */
  readonly waitsFor: ReadonlyMap<string, readonly string[]>;
  /** `.dep` files that name no service: [service, name]. */
  readonly unknown: readonly (readonly [string, string])[];
  /** Services whose files name each other in a circle: started last, in name order. */
  readonly circular: readonly string[];
}

/**
 * The start order of the services that have `.dep` files (`after`: service to the names its
 * files give), among all the services there are (`known`).
 */
export function depStartOrder(after: ReadonlyMap<string, readonly string[]>, known: ReadonlySet<string>): DepOrder {
  const unknown: [string, string][] = [];
  const waitsFor = new Map<string, string[]>();
  for (const [service, names] of after) {
    waitsFor.set(service, names.filter((name) => name !== service && known.has(name)));
    for (const name of names) if (!known.has(name)) unknown.push([service, name]);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  let left = [...after.keys()].sort();
  for (;;) {
    // The ones whose own dependencies with files are placed; the others started at once.
    const ready = left.filter((service) => (waitsFor.get(service) ?? []).every((name) => !after.has(name) || placed.has(name)));
    if (ready.length === 0) break;
    for (const service of ready) {
      order.push(service);
      placed.add(service);
    }
    left = left.filter((service) => !placed.has(service));
  }
  return { order: [...order, ...left], waitsFor, unknown, circular: left };
}

/** S6_WAIT_FOR_SERVICE_MAXTIME, as the fork reads it: ms, 0 for no limit, 5000 when unset. */
export function depWaitMs(env: NodeJS.ProcessEnv): number {
  const value = env['S6_WAIT_FOR_SERVICE_MAXTIME'];
  if (value === undefined || !/^\d+$/.test(value.trim())) return WAIT_DEFAULT_MS;
  return Number(value.trim());
}
