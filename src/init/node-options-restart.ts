import { moveDescriptor } from '../sys/ffi/descriptors.js';
import { errnoName } from '../sys/ffi/library.js';
import { replaceWithNode } from '../sys/ffi/process-image.js';
import { HELD_SIGNALS, heldSignals, holdEarlier } from '../sys/held-signals.js';
import { inheritedDescriptors } from '../sys/proc.js';
import { takeNodeOptionsBack, withNodeOptionsAside } from '../util/node-options.js';
import { debuggerOpenedByOptions, nodeOptionWords } from './early-inspector.js';

/** Where the first start leaves the signals it held for the second: names, comma-separated. */
const HANDED_OVER_SIGNALS = 'STEWARD_HELD_SIGNALS';

/**
 * PID 1 started with the container's NODE_OPTIONS, which is the application's (an APM agent's
 * --require, an --inspect): Steward starts itself again in the same process (same pid, same
 * arguments), with it set aside, so that its own Node runs without it from then on. Not through
 * a shell in front of Node, which would drop the variables whose names are no shell names.
 *
 * A signal that came while the first start loaded (a `docker stop` right after `docker run`)
 * must not be lost with it: the new start is made once the event loop has turned once, when
 * every signal Node caught so far has reached the holder (Node's handler only queues it for
 * the loop), and the held ones go to the second start, which handles them first.
 *
 * Returns undefined when there is nothing to do (the second start, or no NODE_OPTIONS), and
 * otherwise a promise that settles only if the new start fails (Steward then goes on as it is,
 * and says why). The second start puts NODE_OPTIONS back for what Steward runs.
 */
export function startAgainWithoutNodeOptions(warn: (message: string) => void): Promise<void> | undefined {
  const handedOver = takeHandedOverSignals();
  if (takeNodeOptionsBack()) {
    holdEarlier(handedOver);
    return undefined;
  }
  const options = process.env['NODE_OPTIONS'];
  if (options === undefined || options.trim() === '') return undefined;
  return new Promise((resolve) => {
    setImmediate(() => {
      void debuggerOpened().then((opened) => {
        // A SIGUSR1 that came before the entry point ran opened Node's debugger instead of
        // reaching the holder: the second start takes it as held (closeEarlyInspector's case).
        // Not when an --inspect (the application's, in NODE_OPTIONS) opened it.
        const earlySignal = opened && !debuggerOpenedByOptions([...process.execArgv, ...nodeOptionWords(options)]);
        startAgain(options, earlySignal ? ['SIGUSR1'] : [], warn);
        resolve();
      });
    });
  });
}

/** Whether Node's debugger is open (only looked at here, where NODE_OPTIONS makes a second start). */
async function debuggerOpened(): Promise<boolean> {
  try {
    return (await import('node:inspector')).url() !== undefined;
  } catch {
    return false;
  }
}

function startAgain(options: string, opened: readonly NodeJS.Signals[], warn: (message: string) => void): void {
  const env = Object.entries({ ...withNodeOptionsAside(process.env), [HANDED_OVER_SIGNALS]: [...opened, ...heldSignals()].join(',') })
    .flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  // Node marked what it inherited close-on-exec: the new start needs its output, and the rest.
  for (const fd of inheritedDescriptors()) {
    try {
      moveDescriptor(fd, fd);
    } catch {
      // Not open: nothing to keep.
    }
  }
  const script = process.argv[1] ?? '';
  const errno = replaceWithNode([process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], env);
  warn(`cannot start again without NODE_OPTIONS (${errnoName(errno)}): Steward's own Node runs with ${JSON.stringify(options)}, which is meant for the application`);
}

/** The signals the first start handed over, taken out of the environment so that nothing Steward runs inherits them. */
function takeHandedOverSignals(): NodeJS.Signals[] {
  const value = process.env[HANDED_OVER_SIGNALS];
  if (value === undefined) return [];
  delete process.env[HANDED_OVER_SIGNALS];
  const known: readonly string[] = HELD_SIGNALS;
  return value.split(',').filter((name): name is NodeJS.Signals => known.includes(name));
}
