// One supervisor running as PID 1 of a fresh PID namespace:
//
//   harness (node) -> setpriv --pdeathsig KILL -> unshare --pid --fork --mount-proc --kill-child
//                  -> <supervisor> (PID 1 inside the namespace) -> services
//
// Leak protection: setpriv makes the kernel SIGKILL unshare if the harness
// dies (even by SIGKILL); --kill-child makes it SIGKILL the namespace's PID 1
// when unshare dies; and when a PID namespace's init dies the kernel kills
// everything else in it. So killing either PID 1 or unshare tears down the
// whole tree, and nothing survives the harness.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { writeLayout } from './layout.mjs';
import { childrenOf, namespaceMembers } from './proc.mjs';

const OUTPUT_TAIL = 4000;
const live = new Set();

/** SIGKILLs every namespace still running. Synchronous, so usable from an 'exit' handler. */
export function killAll() {
  for (const instance of live) instance.killHard();
}

export class Instance {
  /**
   * @param peer      a peer from peers.mjs (argv and env for its PID 1)
   * @param workRoot  directory under which this instance's files go
   * @param services  how many services to create (the flat tree of layout.mjs), or a
   *                  tree of graph.mjs: { count, write(dir) -> layout }
   * @param options   passed to peer.env (e.g. { throttleMs })
   */
  constructor(peer, workRoot, services, options = {}) {
    this.peer = peer;
    this.workRoot = workRoot;
    this.tree = typeof services === 'number' ? null : services;
    this.serviceCount = this.tree ? this.tree.count : services;
    this.options = options;
    this.starts = new Map(); // service name -> [{ t, nsPid }], one entry per start
    this.events = []; // every line read from the fifo, in arrival order: { t, name, event, nsPid }
    this.waiters = new Set();
    this.output = '';
    this.exit = null;
    this.cachedInitPid = null;
  }

  /** Creates the files, then launches the namespace; `t0` is taken right before the spawn. */
  start() {
    this.dir = fs.mkdtempSync(path.join(this.workRoot, `${this.peer.id}-`));
    this.layout = this.tree ? this.tree.write(this.dir) : writeLayout(this.dir, this.serviceCount);
    execFileSync('mkfifo', ['-m', '600', this.layout.fifo]);
    this.listen();
    const argv = [
      '--pdeathsig', 'KILL',
      'unshare', '--pid', '--fork', '--mount-proc', '--kill-child',
      ...this.peer.argv(this.layout),
    ];
    this.t0 = performance.now();
    this.child = spawn('setpriv', argv, {
      env: this.peer.env(this.layout, this.options),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.child.stdout.on('data', (d) => this.capture(d));
    this.child.stderr.on('data', (d) => this.capture(d));
    this.child.once('exit', (code, signal) => this.onExit({ code, signal }));
    this.child.once('error', (error) => this.onExit({ error: error.message }));
  }

  /**
   * Reads start announcements from the fifo. It is opened O_RDWR so that the
   * open does not block and the stream never sees EOF between writers; it is
   * read through a net.Socket so data arrives on the event loop without
   * polling, and each line is timestamped on arrival.
   */
  listen() {
    const fd = fs.openSync(this.layout.fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    let pending = '';
    this.socket.on('data', (chunk) => {
      const t = performance.now();
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) this.record(line, t);
      this.notify();
    });
  }

  /**
   * A line is "<name> <pid>" (a start) or "<name> <event> <pid>" (the trees of
   * graph.mjs: start, ready, done, ...). Only starts count in `starts`; every
   * line goes to `events`, whose order is the order of the writes.
   */
  record(line, t) {
    const words = line.trim().split(/\s+/);
    const [name] = words;
    if (!name) return;
    const event = words.length >= 3 ? words[1] : 'start';
    const nsPid = Number(words[words.length - 1]);
    this.events.push({ t, name, event, nsPid });
    if (event !== 'start') return;
    if (!this.starts.has(name)) this.starts.set(name, []);
    this.starts.get(name).push({ t, nsPid });
  }

  capture(data) {
    this.output = (this.output + data).slice(-OUTPUT_TAIL);
  }

  onExit(exit) {
    if (this.exit) return;
    this.exit = { ...exit, t: performance.now() };
    live.delete(this);
    this.notify();
  }

  notify() {
    for (const check of [...this.waiters]) check();
  }

  /**
   * Resolves with the first non-undefined value of `probe()`, re-evaluated on
   * every announcement and on exit. Rejects on timeout or if the namespace
   * exits first (unless the probe is satisfied by the exit).
   */
  waitFor(probe, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const value = probe();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.exit) {
          finish();
          reject(this.failure(`exited (${describeExit(this.exit)}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(this.failure(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  failure(message) {
    const tail = this.output.trim() ? `\n--- output of ${this.peer.id} (tail) ---\n${this.output.trim()}` : '';
    return new Error(`${this.peer.id}: ${message}${tail}`);
  }

  /** Time (harness clock) at which the last of the services first announced itself. */
  allStarted(timeoutMs) {
    const probe = () => {
      if (this.starts.size < this.serviceCount) return undefined;
      return Math.max(...[...this.starts.values()].map((s) => s[0].t));
    };
    return this.waitFor(probe, timeoutMs, `${this.serviceCount} services to start`);
  }

  /** The `n`-th start (1-based) of service `name`: { t, nsPid }. */
  nthStart(name, n, timeoutMs) {
    return this.waitFor(() => this.starts.get(name)?.[n - 1], timeoutMs, `start #${n} of ${name}`);
  }

  startCount(name) {
    return this.starts.get(name)?.length ?? 0;
  }

  /**
   * Host PID of the namespace's PID 1 (the child unshare forked). Looked up
   * lazily, because scanning /proc during the boot measurement would steal
   * CPU from the supervisor being timed.
   */
  initPid() {
    if (this.cachedInitPid === null) {
      const [pid] = childrenOf(this.child.pid);
      if (!pid) throw this.failure('cannot find the namespace init process');
      this.cachedInitPid = pid;
    }
    return this.cachedInitPid;
  }

  /** Status of every process in the namespace (host PIDs, see proc.mjs). */
  members() {
    return namespaceMembers(this.initPid());
  }

  /** Host PID of the process whose PID inside the namespace is `nsPid`. */
  hostPidOf(nsPid) {
    const member = this.members().find((p) => p.nsPid === nsPid);
    if (!member) throw this.failure(`no process with namespace PID ${nsPid}`);
    return member.pid;
  }

  /**
   * Sends SIGTERM to the namespace's PID 1 and resolves with the milliseconds
   * until unshare exits (which it does as soon as its child, PID 1, has).
   */
  async stop(timeoutMs) {
    const init = this.initPid();
    const t = performance.now();
    this.stopSentAt = t;
    process.kill(init, 'SIGTERM');
    const exit = await this.waitFor(() => this.exit ?? undefined, timeoutMs, 'exit after SIGTERM');
    return exit.t - t;
  }

  /**
   * SIGKILLs the namespace's PID 1, which takes the whole namespace down;
   * unshare then reaps it and exits. Killing unshare at the same time would
   * orphan PID 1 to the host's init, which may never reap it, so unshare is
   * only killed directly when PID 1 cannot be found.
   */
  killHard() {
    if (this.exit || !this.child?.pid) return;
    let target = this.child.pid;
    try {
      target = this.initPid();
    } catch {
      // Not forked yet, or already gone: killing unshare is all that is left.
    }
    sendSignal(target, 'SIGKILL');
  }

  /** Kills whatever is left, waits for unshare to be reaped and removes the files. */
  async destroy() {
    this.killHard();
    const exited = () => this.exit ?? undefined;
    if (this.child && !this.exit) {
      await this.waitFor(exited, 5000, 'exit after SIGKILL').catch(() => {
        sendSignal(this.child.pid, 'SIGKILL');
        return this.waitFor(exited, 2000, 'unshare to die').catch(() => {});
      });
    }
    this.socket?.destroy();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function sendSignal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function describeExit(exit) {
  if (exit.error) return exit.error;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
