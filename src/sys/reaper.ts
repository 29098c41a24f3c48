import { endedChild, reapIfExited } from './ffi/children.js';
import { type ChildrenByThread, listChildren, listChildrenByThread } from './proc.js';
import { reserveSpareDescriptors, withSpareDescriptor } from './spare-descriptor.js';
import { childEvents, ownChildren } from './spawn.js';

/**
 * Reaps every child that libuv does not: orphans the kernel reparented to us, and
 * the processes Steward starts itself with posix_spawn (their exit status goes to the
 * watcher registered for them). On each SIGCHLD it collects each ended child by pid,
 * skipping the ones Node spawned: waitpid(-1) would steal their statuses.
 */
/** How soon to list the children again when they could not be listed. */
const LIST_RETRY_MS = 100;

/** A watcher and the raw wait status it is to get. */
type Exit = [watcher: (status: number) => void, status: number];

/** A start under way: the cell posix_spawn writes the pid into, on the thread that runs it. */
interface SpawnInFlight {
  readonly pidCell: Int32Array | undefined;
}

/**
 * Hands an exit to its watcher now. A watcher that throws cannot keep the others from running:
 * its error is thrown again from a microtask of its own, as an uncaught one.
 */
function tellExit(watcher: (status: number) => void, status: number): void {
  try {
    watcher(status);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Hands each exit to its watcher now, emptying `exits`. */
function tellExits(exits: Exit[]): void {
  for (const [watcher, status] of exits) tellExit(watcher, status);
  exits.length = 0;
}

export class Reaper {
  #reaped = 0;
  /**
   * Starts under way on libuv's threads: a child of ours exists before its pid reaches us.
   * Such a child is listed under the thread that made it, never under the main thread,
   * where the kernel puts orphans: that tells the two apart however long a start takes.
   */
  readonly #spawnsInFlight = new Set<SpawnInFlight>();
  /** Ended children left for a start under way to hand over: collected by watch(). */
  readonly #exitedBeforeWatched = new Set<number>();
  #retry: NodeJS.Timeout | undefined;
  #firstReap: NodeJS.Immediate | undefined;
  #idleWaiters: (() => void)[] = [];
  readonly #watchers = new Map<number, (status: number) => void>();
  /** Ended children whose watchers are being told, collected once they have been. */
  readonly #telling = new Set<number>();
  readonly #onSignal = (): void => {
    this.reap();
  };
  readonly #onChildExit = (): void => this.#checkIdle();

  start(): void {
    reserveSpareDescriptors();
    process.on('SIGCHLD', this.#onSignal);
    childEvents.on('exit', this.#onChildExit);
    // Children may have died before the handler existed (an entry point script that left some
    // before it exec'd the init): collected at the first turn of the event loop, not now, so
    // that listing them (a read per thread) is not on the way to the first service's start.
    this.#firstReap = setImmediate(() => this.reap());
  }

  stop(): void {
    clearImmediate(this.#firstReap);
    process.off('SIGCHLD', this.#onSignal);
    childEvents.off('exit', this.#onChildExit);
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** Orphans collected so far (not counting watched children). */
  get reapedCount(): number {
    return this.#reaped;
  }

  /** Delivers the raw wait status of `pid` to `onExit` when it exits (after the current task, if it has already). */
  watch(pid: number, onExit: (status: number) => void): void {
    this.#watchers.set(pid, onExit);
    if (!this.#exitedBeforeWatched.delete(pid)) return;
    const status = reapIfExited(pid);
    if (status === undefined) return;
    this.#watchers.delete(pid);
    queueMicrotask(() => onExit(status));
  }

  /**
   * A start whose pid is not known yet has begun: call this as posix_spawn is called, with the
   * cell it writes the pid into (read on this thread while the call runs on another), and what
   * it returns once the start is over and its pid (if any) is watched. Calling that again does
   * nothing. Once no start is under way, a child left for one that never claimed it (its start
   * failed after the child existed) is collected as an orphan.
   */
  spawnStarted(pidCell?: Int32Array): () => void {
    const start: SpawnInFlight = { pidCell };
    this.#spawnsInFlight.add(start);
    return () => {
      if (!this.#spawnsInFlight.delete(start)) return;
      if (this.#spawnsInFlight.size === 0 && this.#exitedBeforeWatched.size > 0) {
        this.#exitedBeforeWatched.clear();
        this.reap();
      }
    };
  }

  /** Whether a start under way has not written its pid yet: an unknown child may then be its. */
  #startWithoutPid(): boolean {
    for (const start of this.#spawnsInFlight) if ((start.pidCell?.[0] ?? 0) === 0) return true;
    return false;
  }

  /** Whether `pid` is the child of a start under way that has written its pid but not handed it over. */
  #startedJustNow(pid: number): boolean {
    for (const start of this.#spawnsInFlight) if (start.pidCell?.[0] === pid) return true;
    return false;
  }

  /** Collects every exited child now. Returns how many orphans were collected. */
  reap(): number {
    const exits: Exit[] = [];
    let orphans = 0;
    // Ended children one at a time, named by waitid without being collected: what a SIGCHLD
    // costs no longer grows with the number of children (listing them read a file per thread,
    // then one waitpid per child). A child that cannot be collected at once (Node's own, a
    // start's not handed over yet) would be named again and again, and one that may be a
    // start's needs the listing to tell: from there on, the children are listed, and each is
    // dealt with as it comes.
    // A watched child's exit is told as waitid names it, with the status waitid read, and the
    // child collected after: the restart it may lead to is asked for before the kernel frees the
    // dead process. A watcher may start a child (a start under way), so whether one is under
    // way is asked for each child anew.
    let listing = false;
    for (;;) {
      const ended = endedChild();
      if (ended === 'none' || ended === 'no-child') break;
      const { pid } = ended;
      if (this.#telling.has(pid)) {
        // A reap from inside that child's watcher: the reap that is telling it collects it.
        listing = true;
        break;
      }
      const watcher = this.#watchers.get(pid);
      if (watcher !== undefined) {
        this.#watchers.delete(pid);
        this.#telling.add(pid);
        try {
          tellExit(watcher, ended.status);
        } finally {
          this.#telling.delete(pid);
          reapIfExited(pid);
        }
        continue;
      }
      const collected = this.#disposition(pid, this.#startWithoutPid(), undefined) === 'collect' ? this.#collect(pid, exits) : undefined;
      if (collected === undefined) {
        listing = true;
        break;
      }
      if (collected === 'orphan') orphans++;
      tellExits(exits);
    }
    if (listing) orphans += this.#reapListed(this.#startWithoutPid(), exits);
    this.#reaped += orphans;
    tellExits(exits);
    this.#checkIdle();
    return orphans;
  }

  /** Collects what has ended among the listed children; returns how many of them were orphans. */
  #reapListed(startWithoutPid: boolean, exits: Exit[]): number {
    let orphans = 0;
    let listed: ChildrenByThread | undefined;
    try {
      listed = withSpareDescriptor(listChildrenByThread);
    } catch {
      listed = undefined;
    }
    let children: readonly number[];
    if (listed === undefined) {
      // Out of descriptors even with the spare (something took its slot): the children we
      // started are known by pid and need no descriptor, so they are collected now. Orphans
      // wait for a listing; an exit not collected now would wait for the next SIGCHLD, which
      // may never come, so the listing is tried again shortly.
      children = [...this.#watchers.keys()];
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.reap();
      }, LIST_RETRY_MS);
    } else {
      children = [...listed.mainThread, ...listed.otherThreads];
    }
    const madeByOtherThreads = listed === undefined ? undefined : new Set(listed.otherThreads);
    for (const pid of children) {
      if (this.#telling.has(pid)) continue;
      const disposition = this.#disposition(pid, startWithoutPid, madeByOtherThreads);
      if (disposition === 'node') continue;
      if (disposition === 'ours-soon') {
        // A start's: it reaches watch() soon, which collects it if it has exited.
        this.#exitedBeforeWatched.add(pid);
        continue;
      }
      if (this.#collect(pid, exits) === 'orphan') orphans++;
    }
    return orphans;
  }

  /**
   * What becomes of a child of ours that may have ended: left to Node, which waits for its
   * own; left for its start to hand it over; or collected. While a start has no pid yet, an
   * unknown child is its when another thread made it, and an orphan otherwise: without the
   * listing (`madeByOtherThreads`) that cannot be told, and it is left for the listing.
   */
  #disposition(pid: number, startWithoutPid: boolean, madeByOtherThreads: ReadonlySet<number> | undefined): 'node' | 'ours-soon' | 'collect' {
    if (ownChildren.has(pid)) return 'node';
    if (this.#watchers.has(pid)) return 'collect';
    if (this.#startedJustNow(pid)) return 'ours-soon';
    if (!startWithoutPid) return 'collect';
    if (madeByOtherThreads === undefined) return 'ours-soon';
    return madeByOtherThreads.has(pid) ? 'ours-soon' : 'collect';
  }
  /** Collects `pid` if it has ended: an orphan, or a watched child whose status is queued for its watcher. */
  #collect(pid: number, exits: Exit[]): 'orphan' | 'watched' | undefined {
    const status = reapIfExited(pid);
    if (status === undefined) return undefined;
    const watcher = this.#watchers.get(pid);
    if (watcher === undefined) return 'orphan';
    this.#watchers.delete(pid);
    exits.push([watcher, status]);
    return 'watched';
  }

  /** This process's children, or undefined when they cannot be listed even with the spare descriptor. */
  children(): number[] | undefined {
    try {
      return withSpareDescriptor(listChildren);
    } catch {
      return undefined;
    }
  }

  /** Whether any child is left; when they cannot be listed, assumed so. */
  hasChildren(): boolean {
    return (this.children()?.length ?? 1) > 0;
  }

  /** Resolves once this process has no children left at all. */
  whenNoChildren(): Promise<void> {
    if (!this.hasChildren()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    if (this.hasChildren()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
