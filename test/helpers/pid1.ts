import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { makeTree } from './tree.js';

/** The repository root, found from this file whether it runs from test/ or .build/test/. */
export const repoRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!dir.endsWith('/') && !safeExists(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

function safeExists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

export const initBin = join(repoRoot, 'bin', 'steward-init');

export const isRoot = process.getuid?.() === 0;

export interface InitRun {
  readonly child: ChildProcess;
  /** What the init writes on its stdout and stderr, as the test reads it (pause() stops reading). */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Everything the init and its children printed, so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the output matches, rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Pid (in our namespace) of the init: PID 1 inside its own namespace. */
  initPid(): number;
  kill(signal?: NodeJS.Signals): void;
}

export interface InitOptions {
  env?: NodeJS.ProcessEnv;
  args?: readonly string[];
  /** Run as PID 1 in a new PID namespace (default) or as a plain child. */
  pid1?: boolean;
  /** Also a private mount namespace with a tmpfs on /run, so /run paths are real. */
  privateRun?: boolean;
  /** The owner of that tmpfs (uid and gid), root's by default (needs privateRun). */
  runOwner?: number;
  /** Bind-mount these host directories over these paths inside (needs privateRun). */
  binds?: readonly [string, string][];
  /**
   * Give the init FIFOs as stdout and stderr, as Docker and Kubernetes do, instead of the
   * socket pairs Node's spawn makes.
   */
  fifoOutput?: boolean;
  /** A program and its options that start the init inside the namespace (setpriv to drop capabilities, say). */
  launcher?: readonly string[];
  /** Mount a /proc of the new namespace's own (default), or keep the host's, as unshare --pid alone does. */
  ownProc?: boolean;
}

/** A FIFO the test reads, and its write end for the init; the FIFO's name is gone at once. */
function outputFifo(): { writeFd: number; reader: Socket } {
  const dir = mkdtempSync(join(tmpdir(), 'steward-fifo-'));
  const path = join(dir, 'out');
  try {
    const made = spawnSync('mkfifo', [path]);
    if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr.toString()}`);
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(path, constants.O_WRONLY);
    return { writeFd, reader: new Socket({ fd: readFd, readable: true, writable: false }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the built steward-init, by default as PID 1 of a fresh PID namespace. */
export function startInit(options: InitOptions = {}): InitRun {
  const args = options.args ?? [];
  let command: string;
  let argv: string[];
  if (options.pid1 === false) {
    command = process.execPath;
    argv = [initBin, ...args];
  } else if (options.privateRun === true) {
    // With the real /run, Steward links its commands into /command at boot, as in an image:
    // an empty directory of the test's takes its place, so nothing is left on the host.
    const allBinds = [...(options.binds ?? [])];
    if (!allBinds.some(([, to]) => to === '/command')) allBinds.push([emptyCommandDir(), '/command']);
    for (const [, to] of allBinds) noteMountPoint(to);
    // sh sets up mounts inside the new namespaces, then execs the init so it keeps pid 1.
    const binds = allBinds.map(([from, to]) => `mkdir -p '${to}' && mount --bind '${from}' '${to}' && `).join('');
    const owner = options.runOwner === undefined ? '' : `-o uid=${options.runOwner},gid=${options.runOwner} `;
    const launcher = (options.launcher ?? []).map((word) => `'${word.replaceAll("'", "'\\''")}' `).join('');
    const script = `mount -t tmpfs ${owner}tmpfs /run && ${binds}exec ${launcher}"$0" "$@"`;
    command = 'unshare';
    argv = ['--pid', '--fork', '--mount-proc', '--mount', 'sh', '-c', script, initBin, ...args];
  } else {
    command = 'unshare';
    argv = ['--pid', '--fork', ...(options.ownProc === false ? [] : ['--mount-proc']), ...(options.launcher ?? []), initBin, ...args];
  }
  const fifos = options.fifoOutput === true ? [outputFifo(), outputFifo()] as const : undefined;
  const child = spawn(command, argv, {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...options.env },
    stdio: fifos === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fifos[0].writeFd, fifos[1].writeFd],
  });
  for (const fifo of fifos ?? []) closeSync(fifo.writeFd);
  const stdout = fifos?.[0].reader ?? child.stdout;
  const stderr = fifos?.[1].reader ?? child.stderr;
  if (stdout === null || stderr === null) throw new Error('the init was started without output pipes');
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  stdout.on('data', append);
  stderr.on('data', append);
  // Node's spawn waits for its own pipes before 'close'; FIFOs the test reads itself are waited for here.
  const outputClosed = Promise.all((fifos ?? []).map(({ reader }) => new Promise((resolve) => reader.once('close', resolve))));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      // With FIFOs, 'close' does not wait for the output: read what is left first.
      void outputClosed.then(() => {
        for (const waiter of waiters) waiter();
        resolve({ code, signal });
      });
    });
  });
  const pid1 = options.pid1 !== false;
  return {
    child,
    stdout,
    stderr,
    output: () => text,
    exited,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = text.match(pattern);
          if (match !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`init exited before printing ${pattern}; output:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${text}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    initPid() {
      const outer = child.pid ?? -1;
      if (!pid1) return outer;
      const children = readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim().split(' ');
      const pid = Number(children[0]);
      // Never 0 or 1: kill(0) would signal the test runner's own process group.
      if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no init under unshare (pid ${outer}): children ${JSON.stringify(children)}`);
      return pid;
    },
    kill(signal = 'SIGTERM') {
      process.kill(this.initPid(), signal);
    },
  };
}

/**
 * An empty directory to bind over /command. Where the host has no /command, the mount point
 * has to be made; it is removed again when the test process exits (it is empty outside the
 * test's namespaces).
 */
function emptyCommandDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-command-'));
  commandDirs.push(dir);
  cleanUpAtExit();
  return dir;
}

/**
 * A bind target a namespace's `mkdir -p` will make on the host, when it is not there yet:
 * removed when the test process exits.
 */
export function noteMountPoint(path: string): void {
  if (existsSync(path) || madeMountPoints.includes(path)) return;
  madeMountPoints.push(path);
  cleanUpAtExit();
}

const commandDirs: string[] = [];
const madeMountPoints: string[] = [];
let cleanupRegistered = false;

function cleanUpAtExit(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const dir of commandDirs) rmSync(dir, { recursive: true, force: true });
    // Deepest first; only empty directories: what is in them is not ours.
    for (const path of [...madeMountPoints].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(path);
      } catch {
        // In use or not empty: not ours to remove.
      }
    }
  });
}

/** Kills a test's namespace for good, whatever state it is in. */
export function destroy(run: InitRun | undefined): void {
  if (run === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
  try {
    run.kill('SIGKILL');
  } catch {
    // already gone
  }
  run.child.kill('SIGKILL');
}

/** Parses lines like "key=value" that test scripts print. */
export function lastValue(text: string, key: string): string | undefined {
  const matches = [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))];
  return matches.at(-1)?.[1];
}

/** A tree where every string starting with a shebang is an executable script (mode 0755). */
export function scriptTree(files: Record<string, string>): string {
  return makeTree(Object.fromEntries(Object.entries(files).map(([path, content]) => [path, { content, mode: content.startsWith('#!') ? 0o755 : 0o644 }])));
}
