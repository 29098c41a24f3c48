import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  /** Bind-mount these host directories over these paths inside (needs privateRun). */
  binds?: readonly [string, string][];
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
    // sh sets up mounts inside the new namespaces, then execs the init so it keeps pid 1.
    const binds = (options.binds ?? []).map(([from, to]) => `mkdir -p '${to}' && mount --bind '${from}' '${to}' && `).join('');
    const script = `mount -t tmpfs tmpfs /run && ${binds}exec "$0" "$@"`;
    command = 'unshare';
    argv = ['--pid', '--fork', '--mount-proc', '--mount', 'sh', '-c', script, initBin, ...args];
  } else {
    command = 'unshare';
    argv = ['--pid', '--fork', '--mount-proc', initBin, ...args];
  }
  const child = spawn(command, argv, {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      for (const waiter of waiters) waiter();
      resolve({ code, signal });
    });
  });
  const pid1 = options.pid1 !== false;
  return {
    child,
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
      return Number(children[0]);
    },
    kill(signal = 'SIGTERM') {
      process.kill(this.initPid(), signal);
    },
  };
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
