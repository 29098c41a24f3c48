import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

import { StewardError } from '../errors.js';
import type { OneshotAction, RcBundle, RcDefinition, RcLongrun, RcOneshot } from '../model/rc.js';
import { DEFAULT_DEATH_TALLY, DEFAULT_TIMEOUT_FINISH_MS, MAX_DEATH_TALLY, type LongrunDefinition } from '../model/service.js';
import { readRegularFile, whyUnreadable } from '../sys/regular-file.js';
import { parseSignal } from '../sys/signals.js';
import { type Diagnostic, serviceScoped } from '../diagnostic.js';
import { parseScript } from '../execline/script.js';
import { UNKNOWN_OPTION_HINT, unknownOptionMessage, unknownOptionUses, unsupportedUses } from '../execline/unsupported.js';
import { parseExecline, tokenize } from './execline.js';
import { inspectExecutable, runScriptLook, type ScriptLook } from './executable.js';
import { directoryNames, isListedDirectory, listDirents, listEntries, readIntegerFile, readValueFile, stdinNotification } from './scan.js';
import type { Settings } from './settings.js';

/** s6-supervise's default time limit for a finish script. */
const RESERVED_PREFIXES = ['s6rc-', 's6-rc-'];
/** Bundle names s6-overlay reads from the user bundle directory. */
export const USER_BUNDLES = ['user', 'user2'];

export interface S6rcSources {
  /** Directories holding service definitions, in the order they are read. */
  readonly dirs: readonly string[];
  /** The profile directory: /etc/s6-overlay, or /etc/cont-profile.d/PROFILE/s6-overlay. */
  readonly profileDir: string;
}

/**
 * Where definitions come from, as s6-overlay's rc.init decides: the profile's s6-rc.d,
 * plus the user bundle directory (3.2.3 and later) unless s6-rc.d defines `user` itself
 * (the layout of 3.2.2 and earlier, which most images still use).
 */
export function s6rcSources(settings: Settings, env: NodeJS.ProcessEnv): S6rcSources {
  const base = env['STEWARD_ETC'] ?? '/etc';
  const profileDir = settings.runtimeProfile === null ? join(base, 's6-overlay') : join(base, 'cont-profile.d', settings.runtimeProfile, 's6-overlay');
  const rcDir = join(profileDir, 's6-rc.d');
  const bundleDir = env['S6_RUNTIME_BUNDLEDIR']?.trim() || join(profileDir, 'user-bundles.d');
  const legacyBundles = isListedDirectory(rcDir, directoryNames(rcDir).get('user'));
  return { dirs: legacyBundles ? [rcDir] : [rcDir, bundleDir], profileDir };
}

/**
 * Reads every definition in the source directories; problems go to `diagnostics`. Given
 * `runScriptLooks`, the looks at the longruns' run scripts go there, to be made later (the
 * boot makes them once its starts have gone out: what they find changes nothing at the start).
 */
export function readS6rcDefinitions(sources: S6rcSources, settings: Settings, diagnostics: Diagnostic[], runScriptLooks?: ScriptLook[]): Map<string, RcDefinition> {
  const definitions = new Map<string, RcDefinition>();
  for (const dir of sources.dirs) {
    const entries = listDirents(dir, diagnostics);
    for (const name of [...entries.keys()].sort()) {
      const path = join(dir, name);
      if (!isListedDirectory(dir, entries.get(name))) continue;
      if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
        diagnostics.push(error(`the name ${name} starts with a prefix reserved for s6-rc's own services`, path, `Rename it (not ${RESERVED_PREFIXES.join(' or ')}...)`));
        continue;
      }
      const existing = definitions.get(name);
      if (existing !== undefined) {
        diagnostics.push(error(`service ${name} is defined twice: here and in ${existing.source}`, path, 'Remove or rename one of them'));
        continue;
      }
      const definition = readDefinition(path, name, settings, diagnostics, runScriptLooks);
      if (definition !== undefined) definitions.set(name, definition);
    }
  }
  return definitions;
}

/** s6-overlay's own services, which Steward runs itself (config/overlay-sources.ts). */
const OVERLAY_OWN = new Set(['base', 'top', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 'user', 'user2']);

/** What an image added to s6-overlay's own service sources. */
export interface OverlayPatches {
  /** Services an image put among s6-overlay's, compiled as its own. */
  readonly definitions: Map<string, RcDefinition>;
  /** Names an image added to the contents of s6-overlay's bundles or the dependencies of its stages. */
  readonly additions: Map<string, string[]>;
  /**
   * The whole contents of `base` and `top` as the image's copy of s6-overlay's sources lists
   * them, when it has one: images take stages out (legacy-cont-init, legacy-services) there.
   */
  readonly bundleContents: Map<string, string[]>;
}

/**
 * s6-overlay compiles its own sources (/package/admin/s6-overlay/etc/s6-rc/sources) with the
 * image's, and some images patch them: Home Assistant's add-on base adds oneshots to `base`
 * and makes `legacy-cont-init` depend on one. Steward keeps its own stages and takes what
 * was added: the new services, and the new names in `contents.d` and `dependencies.d`.
 */
export function readOverlayPatches(dir: string, settings: Settings, diagnostics: Diagnostic[]): OverlayPatches {
  const definitions = new Map<string, RcDefinition>();
  const additions = new Map<string, string[]>();
  const bundleContents = new Map<string, string[]>();
  const entries = listDirents(dir, []);
  for (const name of [...entries.keys()].sort()) {
    if (!isListedDirectory(dir, entries.get(name)) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const path = join(dir, name);
    if (OVERLAY_OWN.has(name)) {
      const names = directoryNames(path);
      const contents = readNameList(path, names, 'contents', diagnostics);
      const listed = [...contents, ...readNameList(path, names, 'dependencies', diagnostics)];
      if (listed.length > 0) additions.set(name, listed);
      if ((name === 'base' || name === 'top') && (names.has('contents.d') || names.has('contents'))) bundleContents.set(name, contents);
      continue;
    }
    const definition = readDefinition(path, name, settings, diagnostics);
    if (definition !== undefined) definitions.set(name, definition);
  }
  return { definitions, additions, bundleContents };
}

/** Where s6-overlay keeps its own sources, when the image has s6-overlay installed. */
export const OVERLAY_SOURCES_DIR = '/package/admin/s6-overlay/etc/s6-rc/sources';

function error(message: string, path: string, hint?: string, line?: number): Diagnostic {
  const options = { path, ...(hint === undefined ? {} : { hint }), ...(line === undefined ? {} : { line }) };
  return { severity: 'error', error: new StewardError('ERR_CONFIG', message, options) };
}

function readDefinition(dir: string, name: string, settings: Settings, diagnostics: Diagnostic[], runScriptLooks?: ScriptLook[]): RcDefinition | undefined {
  const names = directoryNames(dir);
  const typeText = names.has('type') ? readValueFile(join(dir, 'type'), diagnostics) : undefined;
  // A user bundle with contents but no type file is common (images up to 3.2.2): it is a bundle.
  const type = typeText ?? (USER_BUNDLES.includes(name) || names.has('contents.d') || names.has('contents') ? 'bundle' : undefined);
  if (type === undefined) {
    // A type file that is there but could not be read has been reported as such.
    if (!names.has('type')) diagnostics.push(error(`service ${name} has no type file`, join(dir, 'type'), 'Write oneshot, longrun or bundle in it'));
    return undefined;
  }
  const essential = names.has('flag-essential');
  switch (type) {
    case 'bundle':
      return { kind: 'bundle', name, source: dir, contents: readNameList(dir, names, 'contents', diagnostics), essential } satisfies RcBundle;
    case 'oneshot':
      return readOneshot(dir, name, names, essential, settings, diagnostics);
    case 'longrun':
      return readLongrun(dir, name, names, essential, settings, diagnostics, runScriptLooks);
    default:
      diagnostics.push(error(`the type ${JSON.stringify(type)} of service ${name} is not oneshot, longrun or bundle`, join(dir, 'type'), 'Write one of those three words', 1));
      return undefined;
  }
}

/**
 * Names from NAME.d/ (one empty file each) or, without it, the older NAME file (one per line,
 * # comments): s6-rc-compile reads the file only when there is no directory, so a stale file
 * left beside the directory (an image converted from the old format) changes nothing.
 */
function readNameList(dir: string, names: ReadonlyMap<string, unknown>, key: 'contents' | 'dependencies', diagnostics: Diagnostic[]): string[] {
  const listed = new Set<string>();
  if (names.has(`${key}.d`)) {
    for (const entry of listEntries(join(dir, `${key}.d`), diagnostics)) listed.add(entry);
  } else if (names.has(key)) {
    const text = readValueFile(join(dir, key), diagnostics) ?? '';
    for (const line of text.split('\n')) {
      const word = line.replace(/#.*/, '').trim();
      if (word !== '') listed.add(word);
    }
  }
  return [...listed];
}

function readTimeouts(dir: string, names: ReadonlyMap<string, unknown>, diagnostics: Diagnostic[]): { timeoutUpMs: number; timeoutDownMs: number } {
  const read = (file: string): number => (names.has(file) ? readIntegerFile(join(dir, file), 0, 'a number of milliseconds', diagnostics) : 0);
  return { timeoutUpMs: read('timeout-up'), timeoutDownMs: read('timeout-down') };
}

function readOneshot(dir: string, name: string, names: ReadonlyMap<string, unknown>, essential: boolean, settings: Settings, diagnostics: Diagnostic[]): RcOneshot | undefined {
  if (!names.has('up')) {
    diagnostics.push(error(`oneshot ${name} has no up file`, join(dir, 'up'), 'Write the command to run in it, usually the path of a script'));
    return undefined;
  }
  const up = readAction(join(dir, 'up'), diagnostics);
  const down = names.has('down') ? readAction(join(dir, 'down'), diagnostics) : { kind: 'noop' as const };
  if (up === undefined || down === undefined) return undefined;
  for (const [action, file] of [[up, 'up'], [down, 'down']] as const) diagnostics.push(...serviceScoped(inspectCalledScript(action, `${file} of oneshot ${name}`, settings)));
  return {
    kind: 'oneshot',
    name,
    source: dir,
    dependencies: readNameList(dir, names, 'dependencies', diagnostics),
    ...readTimeouts(dir, names, diagnostics),
    essential,
    up,
    down,
    downAfterPartialUp: false,
  };
}

/** An up or down file is a command line or a short script; one larger than this is neither. */
const ACTION_FILE_LIMIT = 1024 * 1024;

/**
 * An up or down file: one execline command line, as s6-rc compiles it. Steward also
 * runs a file that starts with a shell shebang as the script it plainly is, where s6-rc
 * would read its shell code as execline and fail.
 */
function readAction(file: string, diagnostics: Diagnostic[]): OneshotAction | undefined {
  let text: string;
  try {
    text = readRegularFile(file, ACTION_FILE_LIMIT).toString('utf8');
  } catch (cause) {
    diagnostics.push(error(`cannot read: ${whyUnreadable(cause)}`, file));
    return undefined;
  }
  if (text.includes('\r')) {
    diagnostics.push({ severity: 'warning', error: new StewardError('ERR_CONFIG', 'has Windows (CRLF) line endings; reading it without them', { path: file, hint: `Convert it with: sed -i 's/\\r$//' ${file}` }) });
    text = text.replaceAll('\r', '');
  }
  const shebang = /^#!\s*(.+)/.exec(text)?.[1]?.trim();
  if (shebang !== undefined && !(shebang.split(/\s+/)[0] ?? '').endsWith('execlineb')) {
    // Run through its interpreter, so it need not be executable (s6-rc copies these files).
    return { kind: 'script', path: file, argv: [...shebang.split(/\s+/), file] };
  }
  try {
    const program = parseExecline(text, file);
    if (program === 'needs-interpreter') {
      // The interpreter reads it at run time; its syntax errors, and commands it cannot run, are found now.
      parseScript(text, file);
      const unsupported = unsupportedUses(tokenize(text, file), process.env['PATH']);
      for (const { command, line } of unsupported) {
        diagnostics.push(error(`the execline command ${command} is not supported in up and down files`, file, 'Put the logic in a shell script and write its path in this file (the usual s6-overlay idiom)', line));
      }
      const unknownOptions = unknownOptionUses(tokenize(text, file));
      for (const { command, option, line } of unknownOptions) diagnostics.push(error(unknownOptionMessage(command, option), file, UNKNOWN_OPTION_HINT, line));
      return unsupported.length + unknownOptions.length > 0 ? undefined : { kind: 'execline-script', file };
    }
    return program.kind === 'noop' ? { kind: 'noop' } : { kind: 'execline', program, file };
  } catch (cause) {
    if (cause instanceof StewardError) diagnostics.push({ severity: 'error', error: cause });
    else throw cause;
    return undefined;
  }
}

/**
 * The script an up or down file runs by its path (`/etc/s6-overlay/s6-rc.d/init-x/run`, as
 * most images write it): checked like a run script, so a missing x bit or CRLF line endings
 * are reported before the boot rather than as "command exited 127".
 */
function inspectCalledScript(action: OneshotAction, role: string, settings: Settings): Diagnostic[] {
  if (action.kind !== 'execline' || action.program.kind !== 'exec') return [];
  const file = action.program.argv[0];
  if (file === undefined || !file.startsWith('/')) return [];
  return inspectExecutable(inImageEtc(file, settings), `script that the ${role} runs`, { modeMayChangeAtBoot: true });
}

/**
 * A path under /etc as the tree being read has it: with the tree elsewhere (steward check
 * --etc rootfs/etc, before the image is built), /etc/s6-overlay/... is looked for there.
 */
function inImageEtc(path: string, settings: Settings): string {
  const etcRoot = settings.imageEtcDir;
  if (etcRoot === '/etc' || !path.startsWith('/etc/')) return path;
  return join(etcRoot, path.slice('/etc/'.length));
}

function readLongrun(
  dir: string,
  name: string,
  names: ReadonlyMap<string, unknown>,
  essential: boolean,
  settings: Settings,
  diagnostics: Diagnostic[],
  runScriptLooks?: ScriptLook[],
): RcLongrun | undefined {
  if (!names.has('run')) {
    diagnostics.push(error(`longrun ${name} has no run file`, join(dir, 'run'), 'Write a script that execs the daemon in the foreground'));
    return undefined;
  }
  const liveDir = join(settings.runDir, 's6-rc', 'servicedirs', name);
  // s6-rc-compile copies run and finish as 0755: they need not be executable in the source.
  // A run script the kernel cannot execute is reported (now, or once the boot's starts have gone
  // out) and fails when the service starts, as under s6-rc: the rest of the graph does not depend on it.
  const lookAtRunScript = runScriptLook(join(dir, 'run'), name, { requireExecutable: false, notificationFdFile: names.has('notification-fd'), late: runScriptLooks !== undefined });
  if (runScriptLooks === undefined) diagnostics.push(...lookAtRunScript());
  else runScriptLooks.push(lookAtRunScript);
  const readInt = (file: string, fallback: number, what: string): number => (names.has(file) ? readIntegerFile(join(dir, file), fallback, what, diagnostics) : fallback);
  const notificationFd = readInt('notification-fd', -1, 'a file descriptor number');
  if (notificationFd === 0) diagnostics.push(stdinNotification(join(dir, 'notification-fd')));
  let downSignal: NodeJS.Signals = 'SIGTERM';
  if (names.has('down-signal')) {
    const text = readValueFile(join(dir, 'down-signal'), diagnostics) ?? '';
    const parsed = parseSignal(text);
    // s6-rc-compile copies down-signal without reading it, and s6-supervise warns and uses SIGTERM:
    // the image boots under s6-overlay, so it does here. (The number files, read by s6-rc-compile,
    // stop the compile there, and are errors here.)
    if (parsed === undefined) diagnostics.push({ ...error(`${JSON.stringify(text)} is not a signal`, join(dir, 'down-signal'), 'Write a signal name such as SIGTERM; using SIGTERM', 1), severity: 'warning' });
    else downSignal = parsed;
  }
  const producerFor = names.has('producer-for') ? (readValueFile(join(dir, 'producer-for'), diagnostics) ?? '').trim() || null : null;
  const consumerFor = names.has('consumer-for') ? readLines(join(dir, 'consumer-for'), diagnostics) : [];
  const pipelineName = names.has('pipeline-name') ? (readValueFile(join(dir, 'pipeline-name'), diagnostics) ?? '').trim() || null : null;
  const longrun: LongrunDefinition = {
    kind: 'longrun',
    name,
    sourceDir: dir,
    liveDir,
    runPath: join(liveDir, 'run'),
    // s6-rc-compile copies a finish it can read, and leaves out one it cannot (a link to nothing).
    finishPath: names.has('finish') && readable(join(dir, 'finish')) ? join(liveDir, 'finish') : null,
    notificationFd: notificationFd >= 1 ? notificationFd : null,
    timeoutKillMs: readInt('timeout-kill', 0, 'a number of milliseconds'),
    timeoutFinishMs: readInt('timeout-finish', DEFAULT_TIMEOUT_FINISH_MS, 'a number of milliseconds'),
    maxDeathTally: Math.min(MAX_DEATH_TALLY, readInt('max-death-tally', DEFAULT_DEATH_TALLY, 'a number of deaths')),
    downSignal,
    startsDown: false,
    minRestartIntervalMs: settings.restartThrottleMs,
    loggerName: producerFor,
    producers: consumerFor,
  };
  return {
    kind: 'longrun',
    name,
    source: dir,
    dependencies: readNameList(dir, names, 'dependencies', diagnostics),
    ...readTimeouts(dir, names, diagnostics),
    essential,
    longrun,
    producerFor,
    consumerFor,
    pipelineName,
  };
}

function readLines(file: string, diagnostics: Diagnostic[]): string[] {
  return (readValueFile(file, diagnostics) ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
