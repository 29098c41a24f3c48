import type { ScriptLook } from '../config/executable.js';
import { errorMessage } from '../errors.js';
import type { InitContext } from './context.js';
import type { ServiceSet } from './service-set.js';

/**
 * How long the looks at run scripts wait for their services' first starts to have gone out:
 * a bound, for a start held up (a slow spawn on a loaded machine, a dependency not up yet);
 * they are said then anyway.
 */
const LOOK_WAIT_MS = 2000;

/**
 * Says what the looks at services' run scripts find (no x bit, CRLF, a missing interpreter or
 * s6 program), once those services' first starts have gone out and settled: on a small machine the looks
 * would otherwise take the CPU from the starts themselves, and what they find changes nothing
 * at the start (a run script the kernel cannot execute is supervised all the same, and its
 * start failure said at once by its supervisor). In turns, like the starts. Resolves with
 * whether one found an error; never rejects.
 */
export async function sayRunScriptLooks(context: InitContext, services: ServiceSet, stage: string, started: readonly string[], looks: readonly ScriptLook[]): Promise<boolean> {
  if (looks.length === 0) return false;
  let errors = false;
  try {
    await services.waitUntilLaunched(started, context.shutdown.signal, LOOK_WAIT_MS);
    // And once their processes have had the CPU to get going: the looks only serve the reader.
    await services.settling.whenSettled(LOOK_WAIT_MS, context.shutdown.signal);
    for (const look of looks) {
      await services.startTurns.next();
      const problems = look();
      context.reporter.diagnostics(stage, problems);
      errors ||= problems.some((diagnostic) => diagnostic.severity === 'error');
    }
  } catch (error) {
    context.reporter.error(stage, `cannot look at the run scripts: ${errorMessage(error)}`);
  }
  return errors;
}
