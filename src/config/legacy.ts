import { join } from 'node:path';

import { StewardError } from '../errors.js';
import { DEFAULT_DEATH_TALLY, DEFAULT_TIMEOUT_FINISH_MS, MAX_DEATH_TALLY, type LongrunDefinition } from '../model/service.js';
import { parseSignal } from '../sys/signals.js';
import type { Diagnostic } from '../diagnostic.js';
import { inspectExecutable, linkLostInCopy, runScriptLook, type ScriptLook } from './executable.js';
import { directoryNames, isListedDirectory, listDirents, listEntries, readIntegerFile, readValueFile, stdinNotification } from './scan.js';
import type { Settings } from './settings.js';

/** s6-supervise's default time limit for a finish script. */

/** A cont-init.d or cont-finish.d script. */
export interface Script {
  /** Where it is run from (s6-overlay v2's /var/run/s6/etc in an image made for v2). */
  readonly path: string;
  /** Where it was found, which the checks of it name. */
  readonly source: string;
}

/** Everything the s6-overlay legacy directories describe, compiled into the model. */
export interface LegacyTree {
  readonly fixAttrsFiles: readonly string[];
  readonly contInit: readonly Script[];
  readonly services: readonly LongrunDefinition[];
  readonly contFinish: readonly Script[];
  readonly diagnostics: readonly Diagnostic[];
}

export function legacyPaths(settings: Settings): Record<'fixAttrs' | 'contInit' | 'services' | 'contFinish' | 'liveServices', string> {
  const etc = settings.legacyEtcDir ?? settings.etcDir;
  return {
    fixAttrs: join(etc, 'fix-attrs.d'),
    contInit: join(etc, 'cont-init.d'),
    services: join(etc, 'services.d'),
    contFinish: join(etc, 'cont-finish.d'),
    liveServices: join(settings.runDir, 's6', 'legacy-services'),
  };
}

/**
 * Everything at once, as steward check reads it. `services: false` leaves services.d
 * out: the boot reads it when the legacy-services stage runs (eachLegacyService), after
 * cont-init.d, whose scripts may add, remove or change services as in s6-overlay. With
 * `scripts: 'counted'`, cont-init.d and cont-finish.d are only counted: the boot lists them
 * again when their stage runs (listScripts) and looks at each script at its turn
 * (inspectScript), as s6-overlay's runners do, after fix-attrs.d and the scripts before it
 * may have made it executable.
 */
export function readLegacyTree(settings: Settings, options: { services?: boolean; scripts?: 'checked' | 'counted' } = {}): LegacyTree {
  const diagnostics: Diagnostic[] = [];
  const paths = legacyPaths(settings);
  const fixAttrsFiles = listEntries(paths.fixAttrs, diagnostics).map((name) => join(paths.fixAttrs, name));
  const counted = options.scripts === 'counted';
  const contInit = listScripts(settings, 'contInit', counted ? [] : diagnostics);
  const contFinish = listScripts(settings, 'contFinish', counted ? [] : diagnostics);
  if (!counted) for (const script of [...contInit, ...contFinish]) diagnostics.push(...inspectScript(script));
  const services = options.services === false ? [] : readServicesInto(settings, diagnostics);
  return { fixAttrsFiles, contInit, services, contFinish, diagnostics };
}

/** The scripts of cont-init.d or cont-finish.d as the directory holds them now, in order. */
export function listScripts(settings: Settings, which: 'contInit' | 'contFinish', diagnostics: Diagnostic[]): Script[] {
  const dir = legacyPaths(settings)[which];
  return listEntries(dir, diagnostics).map((name) => ({ path: join(dir, name), source: join(dir, name) }));
}

/** What keeps a cont-init.d or cont-finish.d script from running, or is worth a warning. */
export function inspectScript(script: Script): Diagnostic[] {
  // Run as s6-overlay's sh loops run them, so a file without a shebang runs with /bin/sh.
  return inspectExecutable(script.source, 'script', { shellFallback: true });
}

/** One services.d entry: the service and its logger, if it is one and could be read. */
export interface LegacyServiceEntry {
  readonly definitions: readonly LongrunDefinition[];
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The services this one is to start after, from `NAME.dep` files in its directory: the
   * convention of the s6-overlay fork jlesage's GUI base images shipped (see init/dep-order.ts).
   */
  readonly startsAfter: readonly string[];
  /**
   * What the look at the service's run script found, when the look was left for later (see
   * eachLegacyService): a run script the kernel cannot execute changes nothing at the start.
   */
  readonly runScriptProblems: ScriptLook;
}

const NO_PROBLEMS: ScriptLook = () => [];

/**
 * The services.d entries as the directory holds them now, one at a time in name order,
 * so that the boot starts each service while the next is still to be read. With
 * `runScripts: 'later'`, each service's run script is looked at only when the entry's
 * runScriptProblems is called: the boot starts every service first, since what the look
 * finds (no x bit, CRLF, a missing interpreter) is said and changes nothing at the start.
 */
export function* eachLegacyService(settings: Settings, options: { runScripts?: 'now' | 'later' } = {}): Generator<LegacyServiceEntry> {
  const paths = legacyPaths(settings);
  const listing: Diagnostic[] = [];
  // One listing gives both the order and the entry types.
  const entries = listDirents(paths.services, listing);
  if (listing.length > 0) yield { definitions: [], diagnostics: listing, startsAfter: [], runScriptProblems: NO_PROBLEMS };
  for (const name of [...entries.keys()].sort()) {
    if (!isListedDirectory(paths.services, entries.get(name))) continue; // s6-overlay copies sub-directories only
    const diagnostics: Diagnostic[] = [];
    const startsAfter: string[] = [];
    const later: ScriptLook[] = [];
    const definitions = readServiceDir(join(paths.services, name), name, join(paths.liveServices, name), settings, diagnostics, startsAfter, options.runScripts === 'later' ? later : undefined);
    yield { definitions, diagnostics, startsAfter, runScriptProblems: later[0] ?? NO_PROBLEMS };
  }
}

/** How many services services.d holds now (loggers not counted), from one listing. */
export function countLegacyServices(settings: Settings): number {
  const dir = legacyPaths(settings).services;
  const entries = listDirents(dir, []);
  return [...entries.values()].filter((entry) => isListedDirectory(dir, entry)).length;
}

function readServicesInto(settings: Settings, diagnostics: Diagnostic[]): LongrunDefinition[] {
  const services: LongrunDefinition[] = [];
  for (const entry of eachLegacyService(settings)) {
    services.push(...entry.definitions);
    diagnostics.push(...entry.diagnostics);
  }
  return services;
}

/**
 * A service directory found in the scan directory after the boot (put there by an image's own
 * script, as s6-svscan would pick it up on s6-svscanctl -a): read in place, and supervised
 * there, as s6-supervise does.
 */
export function readScannedService(dir: string, name: string, settings: Settings): { definitions: LongrunDefinition[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  return { definitions: readServiceDir(dir, name, dir, settings, diagnostics), diagnostics };
}

/** A services.d entry: the service, and its logger when it has a log/ sub-directory. */
function readServiceDir(
  sourceDir: string,
  name: string,
  liveDir: string,
  settings: Settings,
  diagnostics: Diagnostic[],
  startsAfter: string[] = [],
  runScriptLooks?: ScriptLook[],
): LongrunDefinition[] {
  const listing: Diagnostic[] = [];
  const names = directoryNames(sourceDir, listing);
  if (listing.length > 0) {
    diagnostics.push(...listing);
    return [];
  }
  for (const file of names.keys()) if (file.endsWith('.dep') && file.length > '.dep'.length) startsAfter.push(file.slice(0, -'.dep'.length));
  const hasLogger = isListedDirectory(sourceDir, names.get('log'));
  const main = readLongrun(
    sourceDir,
    names,
    name,
    liveDir,
    settings,
    diagnostics,
    {
      loggerName: hasLogger ? `${name}/log` : null,
      producers: [],
    },
    runScriptLooks,
  );
  if (main === undefined) return [];
  if (!hasLogger) return [main];
  const logDir = join(sourceDir, 'log');
  const loggerDiagnostics: Diagnostic[] = [];
  const logger = readLongrun(logDir, directoryNames(logDir), `${name}/log`, join(liveDir, 'log'), settings, loggerDiagnostics, {
    loggerName: null,
    producers: [name],
  });
  // A logger that could not run would leave its service writing into a pipe nobody reads,
  // until the service blocks: without it, the service's output goes to the container's.
  const loggerBroken = loggerDiagnostics.some((diagnostic) => diagnostic.severity === 'error');
  diagnostics.push(...loggerDiagnostics.map(({ severity, error }) => ({ severity, error })));
  if (logger === undefined || loggerBroken) return [{ ...main, loggerName: null }];
  return [main, logger];
}

function readLongrun(
  sourceDir: string,
  names: ReadonlyMap<string, unknown>,
  name: string,
  liveDir: string,
  settings: Settings,
  diagnostics: Diagnostic[],
  links: { loggerName: string | null; producers: readonly string[] },
  /** Given, the look at the run script is put here rather than made now. Not for a logger: a broken one is left out. */
  runScriptLooks?: ScriptLook[],
): LongrunDefinition | undefined {
  const has = (file: string): boolean => names.has(file);
  const runPath = join(sourceDir, 'run');
  if (!has('run')) {
    diagnostics.push({
      severity: 'error',
      error: new StewardError('ERR_CONFIG', `service ${name} has no run script`, {
        path: runPath,
        hint: 'Every service directory needs an executable run file that execs the daemon in the foreground',
      }),
    });
    return undefined;
  }
  // A run script the kernel cannot execute is reported (now, or once the boot's starts have gone
  // out), and the service is supervised all the same, as s6-supervise does: it shows in the
  // status with why it does not run, tries again, and runs once the script is fixed. Every
  // other service goes on.
  // Run from a copy (services.d's in /run/s6/legacy-services), a relative link may lead elsewhere there.
  const paths = legacyPaths(settings);
  const copy = sourceDir === liveDir ? undefined : { from: paths.services, to: paths.liveServices };
  const lookAtRunScript = runScriptLook(runPath, name, { notificationFdFile: has('notification-fd'), late: runScriptLooks !== undefined, ...(copy === undefined ? {} : { copy }) });
  if (runScriptLooks === undefined) diagnostics.push(...lookAtRunScript());
  else runScriptLooks.push(lookAtRunScript);

  const finishSource = join(sourceDir, 'finish');
  let finishPath: string | null = null;
  if (has('finish')) {
    const finishProblems = inspectExecutable(finishSource, `finish script of service ${name}`);
    diagnostics.push(...finishProblems);
    const lost = copy === undefined ? undefined : linkLostInCopy(finishSource, `finish script of service ${name}`, copy);
    if (lost !== undefined) diagnostics.push(lost);
    if (!finishProblems.some((problem) => problem.severity === 'error')) finishPath = join(liveDir, 'finish');
  }

  const notificationFile = join(sourceDir, 'notification-fd');
  // As s6-supervise takes it, 1 makes the service's stdout the readiness pipe (skarnet's daemons
  // with -1, such as the s6-fdholderd that s6-overlay v1 and v2 ship). Not 0: a pipe the service
  // writes to in place of its input, a logger's producer pipe among them, is a mistake.
  const notificationFd = has('notification-fd') ? readIntegerFile(notificationFile, -1, 'a file descriptor number', diagnostics) : -1;
  if (notificationFd === 0) diagnostics.push(stdinNotification(notificationFile));

  let downSignal: NodeJS.Signals = 'SIGTERM';
  const downSignalFile = join(sourceDir, 'down-signal');
  const downSignalText = has('down-signal') ? readValueFile(downSignalFile, diagnostics) : undefined;
  if (downSignalText !== undefined && downSignalText !== '') {
    const parsed = parseSignal(downSignalText);
    if (parsed === undefined) {
      // A warning, as s6-supervise reads the file at each stop, warns and uses SIGTERM: the
      // image runs under s6-overlay, and `steward check` in its build must not fail it.
      diagnostics.push({
        severity: 'warning',
        error: new StewardError('ERR_CONFIG', `${JSON.stringify(downSignalText)} is not a signal`, {
          path: downSignalFile,
          line: 1,
          hint: 'Write a signal name such as SIGTERM, SIGQUIT or SIGINT; using SIGTERM',
        }),
      });
    } else {
      downSignal = parsed;
    }
  }

  return {
    kind: 'longrun',
    name,
    sourceDir,
    liveDir,
    runPath: join(liveDir, 'run'),
    finishPath,
    notificationFd: notificationFd >= 1 ? notificationFd : null,
    timeoutKillMs: has('timeout-kill') ? readIntegerFile(join(sourceDir, 'timeout-kill'), 0, 'a number of milliseconds', diagnostics) : 0,
    timeoutFinishMs: has('timeout-finish')
      ? readIntegerFile(join(sourceDir, 'timeout-finish'), DEFAULT_TIMEOUT_FINISH_MS, 'a number of milliseconds', diagnostics)
      : DEFAULT_TIMEOUT_FINISH_MS,
    maxDeathTally: Math.min(MAX_DEATH_TALLY, has('max-death-tally') ? readIntegerFile(join(sourceDir, 'max-death-tally'), DEFAULT_DEATH_TALLY, 'a number of deaths', diagnostics) : DEFAULT_DEATH_TALLY),
    downSignal,
    startsDown: has('down'),
    minRestartIntervalMs: settings.restartThrottleMs,
    ...links,
  };
}
