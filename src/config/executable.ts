import { accessSync, closeSync, constants, existsSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

import { StewardError, errnoCode } from '../errors.js';
import { lexScript, parseScript } from '../execline/script.js';
import { UNKNOWN_OPTION_HINT, unknownOptionMessage, unknownOptionUses, unsupportedUses } from '../execline/unsupported.js';
import { providedCommands } from '../model/provided-commands.js';
import { skarnetPackageOf } from '../model/skarnet-commands.js';
import { isBusyBox } from '../sys/busybox.js';
import { findExecutable } from '../sys/which.js';
import { type Diagnostic, serviceScoped } from '../diagnostic.js';

/** A look at a script, made when called: the boot makes those of run scripts once its starts have gone out. */
export type ScriptLook = () => readonly Diagnostic[];

/**
 * inspectExecutable for a service's run script, to make now or later. A closure over these
 * arguments only: one made inside a reader would keep the reader's whole scope (a directory's
 * listing among it) alive until the look is made, some KiB for each of hundreds of services.
 */
export function runScriptLook(
  path: string,
  service: string,
  options: { requireExecutable?: boolean; notificationFdFile?: boolean; late?: boolean; copy?: { readonly from: string; readonly to: string } } = {},
): ScriptLook {
  const { late = false, copy, ...inspection } = options;
  return () => {
    // Made after the start, a look may find the script gone: a run-once service can remove its
    // own source directory (it runs from its copy), which is nothing wrong with the script.
    if (late && !existsSync(path)) return [];
    const role = `run script of service ${service}`;
    const lost = copy === undefined ? undefined : linkLostInCopy(path, role, copy);
    return serviceScoped(lost === undefined ? inspectExecutable(path, role, inspection) : [...inspectExecutable(path, role, inspection), lost]);
  };
}

/**
 * Checks, before anything runs, that a script can be executed by the kernel, and says
 * precisely why not: the usual causes of s6's terse "Permission denied" and
 * "Exec format error" are a missing x bit, CRLF line endings and a missing shebang.
 */
export function inspectExecutable(
  path: string,
  role: string,
  options: {
    requireExecutable?: boolean;
    shellFallback?: boolean;
    modeMayChangeAtBoot?: boolean;
    /** For a service's run script: whether its directory has a notification-fd file. */
    notificationFdFile?: boolean;
  } = {},
): Diagnostic[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      const target = linkTarget(path);
      if (target !== undefined) {
        return [failure(path, `the ${role} is a link to ${target}, which leads to no file${isAbsolute(target) ? '' : ` from ${dirname(path)}`} (ENOENT)`, isAbsolute(target) ? 'Check that the file it leads to is in the image' : 'A relative link is followed from where the link is: make it absolute, or put the script itself there')];
      }
      return [failure(path, `cannot read the ${role}: there is no such file (ENOENT)`, 'Check the path, and that the file is in the image')];
    }
    return [failure(path, `cannot read the ${role}: ${code ?? String(error)}`, 'Check that the file exists and is readable')];
  }
  if (!stat.isFile()) return [failure(path, `the ${role} is not a regular file`, 'Replace it with an executable script')];
  if (options.requireExecutable !== false) {
    if (!permits(stat, 0o1)) {
      // No x bit at all: chmod +x. Bits for someone else (root's 0700, as a non-root USER): that is not enough.
      const found =
        (stat.mode & 0o111) === 0
          ? failure(path, `the ${role} is not executable`, `Run chmod +x ${path} (in a Dockerfile: RUN chmod +x ${path})`)
          : failure(path, `the ${role} cannot be executed by uid ${currentIdentity().uid}: ${describeOwnership(stat)}`, `Run chmod 755 ${path}, or chown it to the user the container runs as`);
      const problem = options.modeMayChangeAtBoot === true ? untilItRuns(found) : found;
      // Its content's problems too (CRLF line endings, no shebang), all at once rather than
      // one more after each fix, when it can be read.
      return permits(stat, 0o4) ? [problem, ...inspectContent(path, role, options.shellFallback === true, options.notificationFdFile, false)] : [problem];
    }
  }
  // A script is read by its interpreter: execute without read (0711, not its owner) fails for
  // one. A warning, since a binary runs without being read (and its head cannot be read to tell).
  if (!permits(stat, 0o4)) {
    return [{ ...failure(path, `the ${role} cannot be read by uid ${currentIdentity().uid}, which a script's interpreter must do: ${describeOwnership(stat)}`, `Run chmod 755 ${path}, or chown it to the user the container runs as`), severity: 'warning' }];
  }
  return inspectContent(path, role, options.shellFallback === true, options.notificationFdFile);
}

function describeOwnership(stat: Stats): string {
  return `it belongs to uid ${stat.uid} and gid ${stat.gid}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

let identity: { uid: number; groups: readonly number[] } | undefined;

function currentIdentity(): { uid: number; groups: readonly number[] } {
  identity ??= { uid: process.getuid?.() ?? 0, groups: [process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])] };
  return identity;
}

/**
 * The kernel's permission check from the mode bits, without a system call per file, for one
 * kind of access (`bit`: 0o1 execute, 0o4 read): root may read anything and execute what has
 * any x bit; others go by the owner's, the group's or everyone's bits, whichever applies.
 */
function permits(stat: Stats, bit: 0o1 | 0o4): boolean {
  const { uid, groups } = currentIdentity();
  if (uid === 0) return bit === 0o4 || (stat.mode & 0o111) !== 0;
  if (stat.uid === uid) return (stat.mode & (bit << 6)) !== 0;
  if (groups.includes(stat.gid)) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}

/** Interpreters already checked: a hundred services with #!/bin/sh need one look at /bin/sh. */
const interpreters = new Map<string, boolean>();

function interpreterExists(path: string): boolean {
  let known = interpreters.get(path);
  if (known === undefined) {
    try {
      accessSync(path, constants.X_OK);
      known = true;
    } catch {
      known = false;
    }
    interpreters.set(path, known);
  }
  return known;
}

/** Shebang, line endings and interpreter: what makes the kernel refuse a script. */
function inspectContent(path: string, role: string, shellFallback: boolean, notificationFdFile: boolean | undefined, executable = true): Diagnostic[] {
  const head = readHead(path);
  if (head === undefined) return [];
  if (head.length === 0) {
    // A shell runs an empty file as an empty script, successfully: an image may disable a
    // cont-init.d script by emptying it (`: > file`), and s6-overlay's sh-based runner runs on.
    if (shellFallback) return executable ? [warning(path, `the ${role} is empty: it is run with /bin/sh, which does nothing and exits 0`, 'Remove it if it is not needed, or write the script it should be', 1)] : [];
    return [failure(path, `the ${role} is empty`, 'Write a script starting with a line such as #!/bin/sh')];
  }
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return []; // ELF binary
  if (head[0] !== 0x23 || head[1] !== 0x21) {
    if (shellFallback) {
      // What a shell does with a file the kernel will not run, and what s6-overlay's sh-based runners do.
      // Not for a file without its x bit: that is not run at all, with /bin/sh or otherwise.
      return executable ? [warning(path, `the ${role} has no shebang line: it is run with /bin/sh, as a shell would run it`, 'Make its first line #!/bin/sh (or the interpreter it needs)', 1)] : [];
    }
    return [
      failure(path, `the ${role} has no shebang line, so the kernel cannot execute it`, 'Make its first line #!/bin/sh (or the interpreter it needs)', 1),
    ];
  }
  const firstLineEnd = head.indexOf(0x0a);
  const firstLine = head.subarray(0, firstLineEnd === -1 ? head.length : firstLineEnd);
  if (firstLine.includes(0x0d)) {
    return [
      failure(
        path,
        `the ${role} has Windows (CRLF) line endings: the kernel looks for an interpreter whose name ends in a carriage return`,
        `Convert it with: sed -i 's/\\r$//' ${path} (or dos2unix), and set your editor or git (core.autocrlf=input) to LF`,
        1,
      ),
    ];
  }
  const words = firstLine.subarray(2).toString('utf8').trim().split(/\s+/);
  const interpreter = words[0] ?? '';
  const problems = basename(interpreter) === 'execlineb' ? inspectExeclineScript(path) : [];
  const unsplit = unsplitEnvArguments(words);
  if (unsplit) {
    const rest = words.slice(1).join(' ');
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} runs ${JSON.stringify(rest)} through ${interpreter}, which gets it as one word (the kernel passes a shebang's arguments as one): no such program`, {
        path,
        line: 1,
        hint: `Write #!${interpreter} -S ${rest}, or name the interpreter by its path: #!/bin/${rest}`,
      }),
    });
  }
  if (!unsplit && splitsArguments(words) && isBusyBox(interpreter)) {
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} runs through ${interpreter} -S, and ${interpreter} is BusyBox's (as in Alpine images), whose env has no -S: it fails with "invalid option" at every start`, {
        path,
        line: 1,
        hint: "Name the interpreter by its path, with one argument at most (the kernel passes one), such as #!/bin/sh -e; or install coreutils' env in the image",
      }),
    });
  }
  const program = unsplit ? undefined : launchedProgram(words);
  if (program !== undefined && !programExists(program)) {
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} runs ${program} through ${interpreter}, and ${program.includes('/') ? `${program} is not installed here` : `no ${program} is in PATH`}`, {
        path,
        line: 1,
        hint: launchedProgramHint(basename(program)),
      }),
    });
  }
  if (interpreter.startsWith('/') && !interpreterExists(interpreter)) {
    const provided = STEWARD_INTERPRETERS.has(basename(interpreter));
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} asks for the interpreter ${interpreter}, which is not installed here`, {
        path,
        line: 1,
        hint: provided ? linkHint(interpreter) : 'Install it in the image or change the shebang',
      }),
    });
  } else if (interpreter.startsWith('/')) {
    const inner = missingInnerInterpreter(interpreter);
    if (inner !== undefined) {
      problems.push({
        severity: 'warning',
        error: new StewardError('ERR_SCRIPT', `the ${role} asks for the interpreter ${interpreter}, a script that itself needs ${inner}, which is not installed here`, {
          path,
          line: 1,
          hint:
            inner === '/bin/sh'
              ? "Add a POSIX shell at /bin/sh (BusyBox's static binary is enough): Steward's commands in /command (execlineb, with-contenv, s6-svc...) are started through it"
              : `Install ${inner} in the image, or change the shebang`,
        }),
      });
    }
  }
  // What a shell runs is outside single quotes: swag's `sed 's|s6-supervise nginx|...|'` runs sed.
  const code = basename(interpreter) === 'execlineb' ? codeOf(head) : withoutSingleQuoted(codeOf(head));
  for (const program of missingSkarnetPrograms(code)) {
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} runs ${program}, a program of s6-overlay's /command that Steward does not provide and that is not installed here`, {
        path,
        hint: installHint(program),
      }),
    });
  }
  for (const missing of missingProvidedPaths(code)) {
    problems.push({
      severity: 'warning',
      error: new StewardError('ERR_SCRIPT', `the ${role} runs ${missing}, which is not installed here`, {
        path,
        hint: linkHint(missing),
      }),
    });
  }
  if (notificationFdFile === false && runsNotifyOnCheckWithoutFd(code)) {
    problems.push({
      severity: 'warning',
      error: new StewardError(
        'ERR_SCRIPT',
        `the ${role} runs s6-notifyoncheck without -3, and the service has no notification-fd file, where s6-notifyoncheck would read the descriptor to notify on: it exits 100 at every start, so the service never runs`,
        { path, hint: 'Write the descriptor number in a notification-fd file beside the run script (echo 3 > notification-fd), or give s6-notifyoncheck -3 FD' },
      ),
    });
  }
  if (runsMissingLogger(code)) problems.push(missingLoggerWarning(path, `the ${role} runs s6-log (directly or through logutil-service)`));
  // One level down: the image's own scripts it runs by path (Frigate's loggers run
  // /usr/local/bin/logutil, which runs s6-log). steward check only: any absolute path in a
  // script is looked at, and one on a network mount that does not answer would hold PID 1.
  for (const helper of helpersFollowed ? helperScriptsRun(code, path) : []) {
    for (const program of missingSkarnetPrograms(helper.code)) {
      problems.push({
        severity: 'warning',
        error: new StewardError('ERR_SCRIPT', `the ${role} runs ${helper.path}, which runs ${program}, a program of s6-overlay's /command that Steward does not provide and that is not installed here`, {
          path,
          hint: installHint(program),
        }),
      });
    }
    if (runsMissingLogger(helper.code)) problems.push(missingLoggerWarning(path, `the ${role} runs ${helper.path}, which runs s6-log`));
  }
  return problems;
}

function missingLoggerWarning(path: string, what: string): Diagnostic {
  return {
    severity: 'warning',
    error: new StewardError('ERR_SCRIPT', `${what}, which is not installed here (Steward does not provide it, s6-overlay's tarball does)`, {
      path,
      hint: "Install your distribution's s6 package (Debian/Ubuntu: apt-get install s6; Alpine: apk add s6), or keep s6-overlay's tarballs in the image",
    }),
  };
}

/** Whether inspections look into the helper scripts a script runs (steward check), not at boot. */
let helpersFollowed = false;

/** From now on, inspections look into the image's own scripts a script runs by path. */
export function followHelperScripts(): void {
  helpersFollowed = true;
}

/** A script of the image's own, as far as what it runs goes: its path and its code. */
interface HelperScript {
  readonly path: string;
  readonly code: string;
}

/** Helper scripts already read, by path (a hundred loggers run the same one); undefined when the path is none. */
const helperScripts = new Map<string, HelperScript | undefined>();

/** The most helpers looked into for one script: a path in it is more often an argument than a program. */
const HELPERS_PER_SCRIPT = 8;

/**
 * Executable scripts a script names by absolute path, other than itself and Steward's own
 * commands: the image's helpers. A path that is an argument (a log directory, a config file)
 * is seldom an executable script, and costs one stat when it is not.
 */
function helperScriptsRun(code: string, self: string): HelperScript[] {
  const found = new Map<string, HelperScript>();
  for (const match of code.matchAll(/(?:^|[\s;&|(`{"])(\/[\w/.+-]*[\w+-])(?=[\s;&|)`}"]|$)/gm)) {
    if (found.size >= HELPERS_PER_SCRIPT) break;
    const path = match[1] ?? '';
    if (path === self || found.has(path) || providedCommands().has(basename(path)) || skarnetPackageOf(basename(path)) !== undefined) continue;
    const helper = helperScriptAt(path);
    if (helper !== undefined) found.set(path, helper);
  }
  return [...found.values()];
}

function helperScriptAt(path: string): HelperScript | undefined {
  if (helperScripts.has(path)) return helperScripts.get(path);
  let helper: HelperScript | undefined;
  try {
    const stat = statSync(path);
    if (stat.isFile() && (stat.mode & 0o111) !== 0) {
      const head = readHead(path);
      if (head !== undefined && head[0] === 0x23 && head[1] === 0x21) {
        const end = head.indexOf(0x0a);
        const interpreter = head.subarray(2, end === -1 ? head.length : end).toString('utf8').trim().split(/\s+/)[0] ?? '';
        helper = { path, code: basename(interpreter) === 'execlineb' ? codeOf(head) : withoutSingleQuoted(codeOf(head)) };
      }
    }
  } catch {
    helper = undefined;
  }
  helperScripts.set(path, helper);
  return helper;
}

/**
 * A logger's run script that calls skarnet's s6-log, in an image without it: after removing
 * s6-overlay's tarballs, the usual migration step, every such logger would fail at each start
 * and its service block once the pipe is full. Read from the script's first bytes, where a
 * logger's one command line is; comment lines are skipped.
 */
function runsMissingLogger(code: string): boolean {
  // By name or by path (/command/s6-log, /usr/bin/s6-log); s6-overlay's logutil-service runs it too.
  return /(^|[\s;&|(/])(s6-log|logutil-service)(?=\s|$)/.test(code) && !loggerInstalled();
}

/**
 * Whether `code` runs s6-notifyoncheck with no -3 option (alone or among others, -d3) on its
 * line: a -3 anywhere there counts, since a quoted -c command can hide where the options end.
 */
function runsNotifyOnCheckWithoutFd(code: string): boolean {
  for (const match of code.matchAll(/(?:^|[\s;&|(`{])(?:\/[\w/.-]*\/)?s6-notifyoncheck(?=[\s;&|)`}]|$)([^\n]*)/gm)) {
    if (!/(?:^|\s)-[a-zA-Z]*3/.test(match[1] ?? '')) return true;
  }
  return false;
}

/** A script's first bytes without its comments, whole lines and trailing ones. */
function codeOf(head: Buffer): string {
  return head
    .toString('utf8')
    .split('\n')
    .map((line) => (line.trimStart().startsWith('#') ? '' : line.replace(/\s#.*$/, '')))
    .join('\n');
}

/**
 * Shell code with what single quotes hold blanked out: words there are data (a sed expression,
 * a message), not commands. Double quotes are kept, as "$(s6-svstat ...)" runs its program;
 * a backslash outside single quotes escapes the next character.
 */
function withoutSingleQuoted(code: string): string {
  if (!code.includes("'")) return code;
  // Slices, not a character at a time: the boot looks at hundreds of scripts in a row.
  const parts: string[] = [];
  let kept = 0;
  let inDoubleQuotes = false;
  for (let index = 0; index < code.length; index++) {
    const char = code[index];
    if (char === '\\') {
      index++;
      continue;
    }
    if (char === '"') inDoubleQuotes = !inDoubleQuotes;
    if (char !== "'" || inDoubleQuotes) continue;
    // Up to the closing quote, or to the end when there is none; the quotes themselves stay.
    const closing = code.indexOf("'", index + 1);
    const end = closing === -1 ? code.length : closing;
    parts.push(code.slice(kept, index + 1), code.slice(index + 1, end).replace(/[^\n]/g, ' '));
    kept = end;
    index = end;
  }
  parts.push(code.slice(kept));
  return parts.join('');
}

/**
 * skarnet's s6-* programs a script runs, by name or path, that neither Steward nor the image
 * has: without s6-overlay's tarballs, each would fail with a bare "not found" at every start
 * (paperless-ngx's s6-setlock, s6-svdt in health checks). s6-log has its own message.
 */
function missingSkarnetPrograms(code: string): string[] {
  const missing = new Set<string>();
  for (const match of code.matchAll(/(?:^|[\s;&|(`{])(?:\/[\w/.-]*\/)?(s6-[a-z0-9-]+)(?=[\s;&|)`}]|$)/gm)) {
    const name = match[1] ?? '';
    if (name === 's6-log' || skarnetPackageOf(name) === undefined || providedCommands().has(name) || skarnetProgramInstalled(name)) continue;
    missing.add(name);
  }
  return [...missing];
}

/**
 * Steward's commands a script runs by a v2-era path (/usr/bin/with-contenv, /usr/bin/justc-envdir,
 * /bin/s6-svc) that the image does not have: without s6-overlay v2's tarball and without
 * `steward install --usr-bin`, each would fail with a bare "not found". (/command is linked at
 * boot.)
 */
function missingProvidedPaths(code: string): string[] {
  const missing = new Set<string>();
  const tested = new Set<string>();
  for (const match of code.matchAll(/(?:^|[\s;&|(`{"])(\/(?:usr\/)?bin\/([\w.+-]+))(?=[\s;&|)`}"]|$)/gm)) {
    const [, path = '', name = ''] = match;
    if (!providedCommands().has(name) || existsSync(path)) continue;
    if (isTested(code, match.index)) tested.add(path);
    else missing.add(path);
  }
  // A script that tests for the path somewhere runs it only when it is there.
  return [...missing].filter((path) => !tested.has(path));
}

/**
 * Whether the path at `index` is what a test looks at rather than a program run: `[ -x PATH ]`,
 * `test -f PATH`, `command -v PATH`, `which PATH`. A script that tests for it falls back when it
 * is missing (Home Assistant add-ons: /usr/bin/with-contenv if there, else /command's).
 */
function isTested(code: string, index: number): boolean {
  const before = code.slice(code.lastIndexOf('\n', index) + 1, index + 1);
  const word = before.trim().split(/\s+/).pop() ?? '';
  return /^-[a-zA-Z]$/.test(word) || word === 'which' || word === 'type';
}

/**
 * How one of Steward's commands gets to a path where a script expects it: /command by `steward
 * install` (and the boot), /usr/bin by its --usr-bin, which covers /bin too on a merged-/usr
 * system (Debian 12, Ubuntu); anywhere else a link of the image's own.
 */
function linkHint(missing: string): string {
  const name = basename(missing);
  const dir = dirname(missing);
  if (dir === '/command') return `Steward provides ${name}: run "steward install" in the image, which links it in /command`;
  let bin = '/bin';
  try {
    bin = realpathSync('/bin');
  } catch {
    // No /bin at all: the path says where it would be.
  }
  if (dir === '/usr/bin' || (dir === '/bin' && bin === '/usr/bin')) {
    return `Steward provides ${name}: run "steward install --usr-bin" in the image, which links Steward's commands in /usr/bin too, where s6-overlay v2 kept them`;
  }
  return `Steward provides ${name} in /command: link it in the image (ln -s /command/${name} ${missing}), or use /command/${name} instead`;
}

const installedPrograms = new Map<string, boolean>();

function skarnetProgramInstalled(name: string): boolean {
  let installed = installedPrograms.get(name);
  if (installed === undefined) {
    installed = !('error' in findExecutable(name, `/command:${process.env['PATH'] ?? '/usr/bin:/bin'}`));
    installedPrograms.set(name, installed);
  }
  return installed;
}

/** What to install for a skarnet program an image lacks (s6-setsid, s6-test...), or undefined for a name that is not one. */
export function skarnetInstallHint(program: string): string | undefined {
  return skarnetPackageOf(program) === undefined ? undefined : installHint(program);
}

function installHint(program: string): string {
  switch (skarnetPackageOf(program)) {
    case 's6-portable-utils':
      return `Install s6-portable-utils (Alpine: apk add s6-portable-utils; Debian has no package: use the system's own tool instead of ${program}), or keep s6-overlay's tarballs in the image`;
    case 's6-linux-utils':
      return `Install s6-linux-utils (Alpine: apk add s6-linux-utils), or use the system's own tool instead of ${program}`;
    case 's6-rc':
      return `Install s6-rc (Alpine: apk add s6-rc; Debian has no package), or keep s6-overlay's tarballs in the image. Steward provides s6-rc itself, not ${program}`;
    default:
      return "Install your distribution's s6 package (Debian/Ubuntu: apt-get install s6; Alpine: apk add s6): Steward links its programs into /command at boot. Or keep s6-overlay's tarballs in the image";
  }
}

let loggerFound: boolean | undefined;

function loggerInstalled(): boolean {
  loggerFound ??= !('error' in findExecutable('s6-log', `/command:${process.env['PATH'] ?? '/usr/bin:/bin'}`));
  return loggerFound;
}

/**
 * The program a launcher in a shebang runs: `#!/usr/bin/env zsh` looks zsh up in PATH when the
 * script runs, and so does `#!/usr/bin/with-contenv bash` (linuxserver.io's images), a
 * missing bash being otherwise only a bare "can't execute 'bash'" from env at each start.
 */
function launchedProgram(words: readonly string[]): string | undefined {
  const launcher = basename(words[0] ?? '');
  if (launcher === 'with-contenv') return words[1];
  if (launcher !== 'env') return undefined;
  const args = words.slice(1);
  for (let index = 0; index < args.length; index++) {
    const word = args[index] ?? '';
    // -S and --split-string: the rest is split again; -Sbash carries the program itself.
    if (word === '-S' || word.startsWith('--split-string')) continue;
    if (word.startsWith('-S')) return word.slice(2).split(/\s+/)[0];
    // Options that take the next word as their value.
    if (word === '-u' || word === '-C' || word === '--unset' || word === '--chdir') {
      index++;
      continue;
    }
    if (word.startsWith('-') || word.includes('=')) continue;
    return word;
  }
  return undefined;
}

/**
 * `#!/usr/bin/env bash -e`: Linux hands env everything after its name as one word, "bash -e",
 * a program no PATH has. Only `env -S` splits it.
 */
function unsplitEnvArguments(words: readonly string[]): boolean {
  return basename(words[0] ?? '') === 'env' && words.length >= 3 && !splitsArguments(words);
}

/** `#!/usr/bin/env -S ...` (or --split-string): GNU env's, which BusyBox's lacks. */
function splitsArguments(words: readonly string[]): boolean {
  return basename(words[0] ?? '') === 'env' && words.slice(1).some((word) => word.startsWith('-S') || word.startsWith('--split-string'));
}

function programExists(program: string): boolean {
  return program.includes('/') ? interpreterExists(program) : !('error' in findExecutable(program, process.env['PATH']));
}

/** What an interpreter that is itself a script (#!/bin/sh) needs and the image lacks, by interpreter: looked at once each. */
const innerInterpreters = new Map<string, string | undefined>();

/**
 * The kernel runs an interpreter that is a script through its own #! line, and fails the
 * service's script with a bare ENOENT when that one is missing: Steward's launchers in
 * /command are #!/bin/sh, and an image without a shell (distroless) has none.
 */
function missingInnerInterpreter(interpreter: string): string | undefined {
  if (innerInterpreters.has(interpreter)) return innerInterpreters.get(interpreter);
  let missing: string | undefined;
  const head = readHead(interpreter);
  if (head !== undefined && head[0] === 0x23 && head[1] === 0x21) {
    const end = head.indexOf(0x0a);
    const inner = head
      .subarray(2, end === -1 ? head.length : end)
      .toString('utf8')
      .trim()
      .split(/\s+/)[0];
    if (inner !== undefined && inner.startsWith('/') && !interpreterExists(inner)) missing = inner;
  }
  innerInterpreters.set(interpreter, missing);
  return missing;
}

/** Interpreters Steward links into /command itself. */
const STEWARD_INTERPRETERS = new Set(['execlineb', 'with-contenv']);

/**
 * An execline script's syntax, so a missing } is reported now, with its line, not when the
 * service starts; and the execline commands it calls that Steward's execlineb does not run.
 */
function inspectExeclineScript(path: string): Diagnostic[] {
  try {
    const text = readFileSync(path, 'utf8');
    parseScript(text, path);
    const words = lexScript(text, path);
    return [
      ...unsupportedUses(words, process.env['PATH']).map(({ command, line }) =>
        failure(path, `the execline command ${command} is not provided by Steward's execlineb, and no ${command} is in PATH: the script stops there with exit 127`, 'Install execline in the image (apk add execline, apt-get install execline), or move this logic into a shell script', line),
      ),
      ...unknownOptionUses(words).map(({ command, option, line }) => failure(path, unknownOptionMessage(command, option), UNKNOWN_OPTION_HINT, line)),
    ];
  } catch (error) {
    if (error instanceof StewardError) return [{ severity: 'error', error }];
    return [];
  }
}

/** Where a link leads as written; undefined for anything that is not a link. */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A relative link among a service's scripts that leads elsewhere from the copy the service runs
 * from (`copy`: the tree it is in and where that tree is copied) than in the image: s6-overlay
 * copies links as links, and so does Steward. A warning: what it leads to there may exist.
 */
export function linkLostInCopy(path: string, role: string, copy: { readonly from: string; readonly to: string }): Diagnostic | undefined {
  const target = linkTarget(path);
  if (target === undefined || isAbsolute(target)) return undefined;
  const inImage = resolve(dirname(path), target);
  const fromCopy = resolve(dirname(join(copy.to, relative(copy.from, path))), target);
  const within = relative(copy.to, fromCopy);
  if (!within.startsWith('..') && !isAbsolute(within) && join(copy.from, within) === inImage) return undefined;
  return warning(path, `the ${role} is a relative link to ${target}: the service runs from its copy in ${dirname(join(copy.to, relative(copy.from, path)))}, where the link leads to ${fromCopy}, not ${inImage}`, `Make the link absolute: ln -sf ${inImage} ${path}`);
}

function warning(path: string, message: string, hint: string, line?: number): Diagnostic {
  return { ...failure(path, message, hint, line), severity: 'warning' };
}

/**
 * A mode an earlier oneshot may still change (hotio's init-perms runs chmod +x over the tree's
 * scripts before they run): a warning that says so, not an error.
 */
function untilItRuns(found: Diagnostic): Diagnostic {
  const { error } = found;
  const message = `${error.message} now: it fails when it runs unless the boot makes it executable first (an earlier oneshot's chmod)`;
  return { severity: 'warning', mayChangeAtBoot: true, error: new StewardError('ERR_SCRIPT', message, { ...(error.path === undefined ? {} : { path: error.path }), ...(error.hint === undefined ? {} : { hint: error.hint }) }) };
}

/** What to do about a program a shebang launches that is not there. */
function launchedProgramHint(program: string): string {
  // No distribution packages it: Home Assistant's add-on base images unpack it.
  if (program === 'bashio') {
    return 'bashio is no distribution package: the Home Assistant add-on base images (ghcr.io/hassio-addons/base) unpack it into /usr/lib/bashio with a link at /usr/bin/bashio; build FROM one, or install it from the hassio-addons/bashio release tarball the same way, or change the shebang';
  }
  return skarnetInstallHint(program) ?? `Install ${program} in the image (say, bash: apk add bash on Alpine), or change the shebang`;
}

function failure(path: string, message: string, hint: string, line?: number): Diagnostic {
  return {
    severity: 'error',
    error: new StewardError('ERR_SCRIPT', message, line === undefined ? { path, hint } : { path, hint, line }),
  };
}

/** Where readHead reads; what it returns is a copy, since a caller may read another head before it is done with its own. */
const headScratch = Buffer.alloc(4096);

function readHead(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // A logger's command may follow a few lines (a mkdir, a comment header): 4 KiB, one read.
    const length = readSync(fd, headScratch, 0, headScratch.length, 0);
    // A copy of what was read, no larger: the boot looks at hundreds of run scripts in a row,
    // and 4 KiB kept for each until the next garbage collection (none comes in an idle PID 1)
    // would stay in its memory.
    return Buffer.from(headScratch.subarray(0, length));
  } catch {
    // Executable but unreadable (mode 0111) is legal for binaries; nothing more to check.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
