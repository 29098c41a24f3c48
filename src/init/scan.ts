import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { readScannedService } from '../config/legacy.js';
import { errorMessage } from '../errors.js';
import type { InitContext } from './context.js';
import type { ServiceSupervisor } from '../supervise/supervisor.js';
import type { ServiceSet } from './service-set.js';

export interface ScanOutcome {
  /** Services found in the scan directory and started (or left down, with a down file). */
  readonly added: readonly string[];
  /** Services whose directory left the scan directory, now stopped. */
  readonly pruned: readonly string[];
  /** What could not be read, one line each. */
  readonly problems: readonly string[];
}

/**
 * s6-svscan's scan of /run/service. s6-overlay images may copy a service directory there at
 * run time and call `s6-svscanctl -a` (or send PID 1 a SIGHUP): each directory Steward does
 * not supervise yet is read in place and started, unless it has a `down` file. With `prune`
 * (`s6-svscanctl -h` or `-n`, SIGHUP), a service whose entry is gone is stopped, and started
 * again if it comes back. Names starting with a dot are not services.
 */
export class ServiceScanner {
  readonly #pruned = new Set<string>();
  /** Every service (and logger) a scan added: they are in no stage, so the shutdown stops them itself. */
  readonly #added = new Set<string>();
  /** Services whose entry in the scan directory is in place: only those can have left it. */
  readonly #installed = new Set<string>();

  constructor(
    private readonly context: InitContext,
    private readonly services: ServiceSet,
  ) {
    services.whenInstalled((supervisor) => this.#installed.add(supervisor.name));
  }

  /** What scans added, to stop with the container (s6-overlay's shutdown prunes the scan directory). */
  get added(): readonly string[] {
    return [...this.#added];
  }

  scan(prune: boolean): ScanOutcome {
    const { reporter, layout, settings } = this.context;
    const added: string[] = [];
    const pruned: string[] = [];
    const problems: string[] = [];
    let names: string[];
    try {
      names = readdirSync(layout.serviceDir).filter((name) => !name.startsWith('.'));
    } catch (error) {
      return { added, pruned, problems: [`cannot list ${layout.serviceDir}: ${errorMessage(error)}`] };
    }
    const present = new Set(names);
    for (const name of names) {
      const known = this.services.supervisors.get(name);
      if (known !== undefined) {
        if (this.#pruned.delete(name)) {
          this.services.start(name);
          added.push(name);
        }
        continue;
      }
      const dir = join(layout.serviceDir, name);
      let real: string;
      try {
        real = realpathSync(dir);
        if (!statSync(real).isDirectory()) continue;
      } catch (error) {
        problems.push(`cannot read ${dir}: ${errorMessage(error)}`);
        continue;
      }
      const { definitions, diagnostics } = readScannedService(real, name, settings);
      reporter.diagnostics('scan', diagnostics);
      if (definitions.length === 0) {
        problems.push(`${dir} is not a service directory: ${diagnostics.map((diagnostic) => diagnostic.error.message).join('; ') || 'no run script'}`);
        continue;
      }
      this.services.load(definitions);
      for (const definition of definitions) {
        this.services.installed(definition.name);
        this.#added.add(definition.name);
      }
      reporter.info('scan', `supervising ${name}, found in ${layout.serviceDir}`);
      this.services.start(name);
      added.push(name);
    }
    if (prune) {
      for (const supervisor of this.services.supervisors.values()) {
        // A logger goes with its service; the others are named by their entry.
        if (supervisor.name.includes('/') || !this.#installed.has(supervisor.name) || present.has(supervisor.name) || this.#pruned.has(supervisor.name)) continue;
        reporter.info('scan', `stopping ${supervisor.name}: its directory left ${layout.serviceDir}`);
        this.#pruned.add(supervisor.name);
        supervisor.down();
        const logger = supervisor.definition.loggerName === null ? undefined : this.services.supervisors.get(supervisor.definition.loggerName);
        logger?.down();
        pruned.push(supervisor.name);
        if (this.#added.has(supervisor.name)) this.#forgetOnceStopped(supervisor, logger);
      }
    }
    return { added, pruned, problems };
  }

  /**
   * A service a scan added, whose entry left the scan directory, is forgotten once it (and its
   * logger) stopped, as s6-svscan forgets what it pruned: its name, found again, is read anew
   * from wherever the entry leads then, not run from the directory it had. Unless the entry
   * came back meanwhile: then it was started again, and stays.
   */
  #forgetOnceStopped(supervisor: ServiceSupervisor, logger: ServiceSupervisor | undefined): void {
    const name = supervisor.name;
    const attempt = (): boolean => {
      if (!this.#pruned.has(name)) return true;
      if (!this.services.forget(name)) return false;
      for (const gone of [name, ...(logger === undefined || this.services.supervisors.has(logger.name) ? [] : [logger.name])]) {
        this.#pruned.delete(gone);
        this.#added.delete(gone);
        this.#installed.delete(gone);
      }
      return true;
    };
    if (attempt()) return;
    const unsubscribes: (() => void)[] = [];
    let due = false;
    // After the event that stopped it has reached every listener: s6's supervise/ directory
    // still has its "down" to tell (the D s6-svwait -D waits for) before the forget closes it.
    const onEvent = (): void => {
      if (due) return;
      due = true;
      setImmediate(() => {
        due = false;
        if (!attempt()) return;
        for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      });
    };
    for (const each of logger === undefined ? [supervisor] : [supervisor, logger]) unsubscribes.push(each.subscribe(onEvent));
  }
}
