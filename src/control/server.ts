import { setMaxListeners } from 'node:events';
import { chmodSync, chownSync, closeSync, mkdirSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';

import { netModule } from '../sys/builtins.js';
import { listenOnUnixSocket } from '../sys/ffi/descriptors.js';
import { removeIfPresent } from '../util/remove.js';
import { onlyReads } from './status-socket.js';
import type { CommandContext } from './commands/context.js';
import { dispatch } from './dispatch.js';
import { failure, MAX_REQUEST_BYTES, REQUEST_DEADLINE_MS, requestWaits, type Response } from './protocol.js';
import type { ControlTarget } from './target.js';

/**
 * Connections kept at once. Past it, the oldest one that has not sent a whole request
 * IDLE_AFTER_MS after it connected (an idle or trickling client) is dropped for the new one:
 * such clients cannot keep others out.
 */
const MAX_CONNECTIONS = 256;
/**
 * How long a connection has to send its whole request before it may be dropped for another. A
 * burst of clients that each send theirs at once (hundreds of exec probes) must not lose those
 * the server has not read yet: their requests are in, only not read.
 */
const IDLE_AFTER_MS = 1000;
/** Connections kept at most, idle or not: past it, the newest is dropped. */
const MAX_CONNECTIONS_AT_ALL = 1024;
/**
 * Requests that wait (`wait`, `control` with a wait, `rc change`) in progress at once; past
 * it they are answered ERR_BUSY, so that parked waits, which any user can send to the status
 * socket, always leave room for the quick requests (status, ping...).
 */
const MAX_WAITING_REQUESTS = MAX_CONNECTIONS - 32;
/** Connections the kernel holds until they are accepted (Node's default). */
const BACKLOG = 511;
/** How often a client whose request is still being handled (a wait) is checked for being gone. */
const CLIENT_CHECK_MS = 1000;

export interface ControlServerOptions {
  /** A group whose members may use the socket too; null keeps it to Steward's user. */
  readonly group: number | null;
  readonly now: () => number;
  /**
   * The status socket: open to every user (0666), as s6's supervise/status files are
   * world-readable, and answering only the requests that change nothing.
   */
  readonly readOnly?: boolean;
  /**
   * The socket's directory is Steward's own (the default /run/steward): its mode is set even
   * when it exists. Any other existing directory (STEWARD_SOCKET=/tmp/x.sock) is left as it
   * is; the socket's own mode still says who may connect.
   */
  readonly ownsDirectory?: boolean;
}


/**
 * Frames bytes into requests and responses on a Unix socket; nothing else. Every
 * client is bounded in size and time, and nothing a client does can throw here.
 */
export class ControlServer {
  /** Made by serve(): node:net is loaded then, not while the first services start. */
  #server: Server | undefined;
  /** Open connections, oldest first; true once the whole request is in. */
  readonly #connections = new Map<Socket, boolean>();
  /** When each open connection was accepted (performance.now()). */
  readonly #acceptedAt = new WeakMap<Socket, number>();
  /** Connections answered and not closed yet: their answers are still being sent. */
  readonly #answered = new Set<Socket>();
  #answeredGone: (() => void)[] = [];
  #waitingRequests = 0;
  readonly #closing = new AbortController();
  #boundFd: number | undefined;
  #adopted = false;

  constructor(
    readonly path: string,
    private readonly target: ControlTarget,
    private readonly options: ControlServerOptions,
  ) {
    // Each open connection listens for the close (MAX_CONNECTIONS at most): past ten, Node would
    // print a MaxListenersExceededWarning into the container's log (eleven services in s6-svwait).
    setMaxListeners(0, this.#closing.signal);
  }

  /** Creates the private directory and the socket, with the access the options allow, and serves it. */
  async listen(): Promise<void> {
    this.bind();
    await this.serve();
  }

  /**
   * Creates the private directory and a listening socket, with the access the options
   * allow. From now on clients can connect; their requests wait until serve().
   */
  bind(): void {
    const dir = dirname(this.path);
    const shared = this.options.group !== null;
    if (this.options.readOnly !== true) {
      // Others may pass through (x) to the status socket, not list the directory; each
      // socket's own mode says who may connect.
      const created = mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined;
      if (created || this.options.ownsDirectory === true) {
        chmodSync(dir, shared ? 0o751 : 0o711);
        if (shared) chownSync(dir, process.getuid?.() ?? 0, this.options.group ?? 0);
      }
    }
    removeIfPresent(this.path); // a stale socket from an earlier boot
    this.#boundFd = listenOnUnixSocket(this.path, BACKLOG);
    if (this.options.readOnly === true) {
      chmodSync(this.path, 0o666);
      return;
    }
    chmodSync(this.path, shared ? 0o660 : 0o600);
    if (shared) chownSync(this.path, process.getuid?.() ?? 0, this.options.group ?? 0);
  }

  /** Answers the clients of the socket bind() made, those already waiting first. */
  async serve(): Promise<void> {
    const fd = this.#boundFd;
    if (fd === undefined) throw new Error('the control socket is not bound');
    if (this.#closing.signal.aborted) return;
    const server = netModule().createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    // A listening error after start-up (there is none expected) must not crash PID 1.
    server.on('error', () => undefined);
    this.#server = server;
    this.#adopted = true; // Node owns the descriptor from here, and closes it
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd, backlog: BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Resolves once every connection already answered has closed, or after `timeoutMs`: before
   * the container's last TERM, so that an answer given during the stop (a change the stop
   * overtook) is read first. Steward's clients keep their side open until their answer is in,
   * so the close follows its reading, and they hold a TERM that comes between that and their
   * exit; one that half-closed after its request closes here once the answer is sent.
   */
  answeredClientsGone(timeoutMs: number): Promise<void> {
    if (this.#answered.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#answeredGone.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops accepting, ends pending waits, and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing.abort();
    for (const socket of this.#connections.keys()) socket.destroy();
    if (!this.#adopted && this.#boundFd !== undefined) {
      closeSync(this.#boundFd); // bound, never served: Node does not own the descriptor yet
      this.#boundFd = undefined;
    }
    return new Promise((resolve) => {
      if (this.#server === undefined) resolve();
      else this.#server.close(() => resolve());
      try {
        rmSync(this.path, { force: true });
      } catch {
        // Never made (its directory could not be): nothing to remove.
      }
    });
  }

  /**
   * Drops the oldest connection still sending its request IDLE_AFTER_MS after it connected, to
   * make room for `newest`. With none such, every connection is kept, up to
   * MAX_CONNECTIONS_AT_ALL; past that, `newest` is dropped.
   */
  #dropOldestIdle(newest: Socket): void {
    const idleBefore = performance.now() - IDLE_AFTER_MS;
    for (const [socket, requestIn] of this.#connections) {
      if (requestIn || socket === newest) continue;
      // Oldest first: past the first one still in its grace, all are.
      if ((this.#acceptedAt.get(socket) ?? 0) > idleBefore) break;
      this.#connections.delete(socket);
      socket.destroy();
      return;
    }
    if (this.#connections.size <= MAX_CONNECTIONS_AT_ALL) return;
    this.#connections.delete(newest);
    newest.destroy();
  }

  #accept(socket: Socket): void {
    this.#connections.set(socket, false);
    this.#acceptedAt.set(socket, performance.now());
    if (this.#connections.size > MAX_CONNECTIONS) this.#dropOldestIdle(socket);
    // Aborted when the client goes, or when the server closes. Not AbortSignal.any() with the
    // server's signal: Node keeps a reference to each signal made so on that long-lived one,
    // never freed, about 90 bytes per request (an exec probe every 10 s: 0.7 MiB a day).
    const clientGone = new AbortController();
    const serverClosing = (): void => clientGone.abort(this.#closing.signal.reason);
    if (this.#closing.signal.aborted) serverClosing();
    else this.#closing.signal.addEventListener('abort', serverClosing, { once: true });
    let buffered = Buffer.alloc(0);
    let handled = false;
    let checkClient: NodeJS.Timeout | undefined;
    let unreadAnswer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      // Answered: what arrives after this (the rest of the request, say) is not carried out.
      handled = true;
      respond(failure('ERR_REQUEST_TIMEOUT', `no complete request within ${REQUEST_DEADLINE_MS} ms`));
    }, REQUEST_DEADLINE_MS);

    const respond = (response: Response): void => {
      clearInterval(checkClient);
      if (socket.destroyed) return;
      this.#answered.add(socket);
      socket.end(`${JSON.stringify(response)}\n`);
      // A client that never reads its answer must not hold the connection.
      unreadAnswer = setTimeout(() => socket.destroy(), REQUEST_DEADLINE_MS);
      unreadAnswer.unref();
    };
    const handle = (line: Buffer): void => {
      handled = true;
      if (this.#connections.has(socket)) this.#connections.set(socket, true);
      clearTimeout(deadline);
      socket.pause();
      let message: unknown;
      try {
        message = JSON.parse(line.toString('utf8'));
      } catch {
        respond(failure('ERR_BAD_REQUEST', 'the request is not valid JSON', { hint: 'Send one JSON object followed by a newline' }));
        return;
      }
      // Clients half-close after their request, so end-of-input does not mean gone. An empty
      // write tells: it sends nothing, and fails (EPIPE) once the client has closed its socket,
      // which then closes here and ends its wait (a Ctrl-C on `steward wait` must not leak).
      checkClient = setInterval(() => {
        if (!socket.destroyed) socket.write('');
      }, CLIENT_CHECK_MS);
      checkClient.unref();
      if (this.options.readOnly === true && !onlyReads(message)) {
        respond(
          failure('ERR_PERMISSION', 'this is the status socket: it answers ping, status, ready, wait, graph, deaths (without clear) and s6-rc list, listall and dry runs only', {
            hint: 'Control commands go to the control socket: run as the user Steward runs as (root in most containers), or ask for STEWARD_CONTROL_GROUP to grant your group access',
          }),
        );
        return;
      }
      const context: CommandContext = {
        target: this.target,
        now: this.options.now,
        abortSignal: clientGone.signal,
      };
      const waits = requestWaits(message);
      if (waits && this.#waitingRequests >= MAX_WAITING_REQUESTS) {
        respond(failure('ERR_BUSY', `${MAX_WAITING_REQUESTS} requests are already waiting here`, { hint: 'Try again once some are over; status and the other quick requests are still answered' }));
        return;
      }
      if (waits) this.#waitingRequests++;
      const settled = (response: Response): void => {
        if (waits) this.#waitingRequests--;
        respond(response);
      };
      dispatch(message, context).then(settled, (error: unknown) => settled(failure('ERR_INTERNAL', String(error))));
    };

    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      const newline = chunk.indexOf(10);
      buffered = Buffer.concat([buffered, newline === -1 ? chunk : chunk.subarray(0, newline)]);
      if (newline !== -1 && buffered.length <= MAX_REQUEST_BYTES) {
        handle(buffered);
        return;
      }
      if (buffered.length > MAX_REQUEST_BYTES) {
        handled = true;
        clearTimeout(deadline);
        respond(failure('ERR_TOO_LARGE', `the request is larger than ${MAX_REQUEST_BYTES} bytes`));
      }
    });
    // A client that half-closes after its request (no newline) still gets an answer.
    socket.on('end', () => {
      if (handled) return;
      if (buffered.length > 0) handle(buffered);
      else {
        clearTimeout(deadline);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(deadline);
      clearInterval(checkClient);
      clearTimeout(unreadAnswer);
      this.#closing.signal.removeEventListener('abort', serverClosing);
      clientGone.abort();
      this.#connections.delete(socket);
      if (this.#answered.delete(socket) && this.#answered.size === 0) {
        const waiters = this.#answeredGone;
        this.#answeredGone = [];
        for (const resolve of waiters) resolve();
      }
    });
  }
}

