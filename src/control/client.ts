import { join } from 'node:path';

import { StewardError } from '../errors.js';
import { netModule } from '../sys/builtins.js';
import { PROTOCOL_VERSION, requestWaits, type Response } from './protocol.js';
import { onlyReads, statusSocketPath } from './status-socket.js';
import { MAX_TIMER_MS } from '../util/long-timeout.js';

/**
 * Where the control socket is, for the server and its clients alike: STEWARD_SOCKET, or
 * steward/control.sock in the runtime directory (STEWARD_RUN, /run by default).
 */
export function socketPath(env: NodeJS.ProcessEnv = process.env, runDir = env['STEWARD_RUN'] ?? '/run'): string {
  const chosen = env['STEWARD_SOCKET'] ?? '';
  return chosen === '' ? join(runDir, 'steward', 'control.sock') : chosen;
}

/**
 * Sends one request and returns the response. Connection problems become a
 * StewardError that says what to do (ERR_CONTROL_UNAVAILABLE, ERR_PERMISSION).
 */
export async function sendRequest(path: string, request: Record<string, unknown>, quickLimitMs = QUICK_ANSWER_LIMIT_MS): Promise<Response> {
  try {
    return await exchangeWhenAccepted(path, request, quickLimitMs);
  } catch (error) {
    // Another user: what only reads goes to the status socket, which every user may use.
    if (error instanceof StewardError && error.code === 'ERR_PERMISSION' && onlyReads(request)) {
      return exchangeWhenAccepted(statusSocketPath(path), request, quickLimitMs).catch(() => Promise.reject(error));
    }
    throw error;
  }
}

/** Connections refused because Steward's backlog is full (EAGAIN): nothing was sent, so trying again is safe. */
const notAccepted = new WeakSet<Error>();
const FIRST_RETRY_MS = 10;
const LONGEST_RETRY_MS = 250;

/**
 * A Steward busy for a moment (a burst of clients, a long piece of work) lets its socket's
 * backlog fill, and a connection is then refused with EAGAIN: the request is tried again
 * until it is accepted or the time it may take is over, as a wait on a busy server would.
 */
async function exchangeWhenAccepted(path: string, request: Record<string, unknown>, quickLimitMs: number): Promise<Response> {
  const limitMs = answerLimitMs(request, quickLimitMs) ?? Number.POSITIVE_INFINITY;
  const started = Date.now();
  let delayMs = FIRST_RETRY_MS;
  for (;;) {
    try {
      return await exchange(path, request, quickLimitMs);
    } catch (error) {
      if (!(error instanceof Error) || !notAccepted.has(error)) throw error;
      const waited = Date.now() - started;
      if (waited + delayMs >= limitMs) {
        throw new StewardError('ERR_CONTROL_UNAVAILABLE', `Steward did not accept the connection within ${Math.round(waited / 1000)} s: it is busy, its control socket's backlog is full (${path})`, {
          hint: 'Try again in a moment; if it lasts, see its log',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, LONGEST_RETRY_MS);
    }
  }
}

/** How long a request that does not wait may go unanswered: Steward answers those at once. */
const QUICK_ANSWER_LIMIT_MS = 20_000;
/** Beyond a waiting request's own timeout, the time its answer may take to come. */
const ANSWER_MARGIN_MS = 5_000;

/** How long to wait for the answer: forever only for a wait with no timeout of its own. */
function answerLimitMs(request: Record<string, unknown>, quickLimitMs: number): number | undefined {
  if (!requestWaits(request)) return quickLimitMs;
  const timeoutMs = typeof request['timeoutMs'] === 'number' ? request['timeoutMs'] : 0;
  // No limit for none, nor for one past what a timer can hold (it would fire at once).
  return timeoutMs === 0 || timeoutMs + ANSWER_MARGIN_MS > MAX_TIMER_MS ? undefined : timeoutMs + ANSWER_MARGIN_MS;
}

function exchange(path: string, request: Record<string, unknown>, quickLimitMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = netModule().connect(path);
    const limitMs = answerLimitMs(request, quickLimitMs);
    // A Steward that cannot answer (overloaded, out of file descriptors) must not hang the caller.
    const timer =
      limitMs === undefined
        ? undefined
        : setTimeout(() => {
            socket.destroy();
            reject(new StewardError('ERR_CONTROL_UNAVAILABLE', `no answer from Steward within ${limitMs / 1000} s (${path})`, { hint: 'Steward may be overloaded or out of file descriptors: see its log' }));
          }, limitMs);
    let received = '';
    socket.setEncoding('utf8');
    // This side stays open until the answer is in (Node closes it when Steward's side ends):
    // Steward sees the connection close once the answer is read, and its last stage waits for
    // that (see holdTermWhileAnswering). A half-close here would close it at the sending.
    socket.on('connect', () => socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, ...request })}\n`));
    let answered = false;
    socket.on('data', (chunk: string) => {
      received += chunk;
      // As soon as the answer is in, before this side closes: the server waits for that close
      // before the container's last TERM; a TERM between here and the exit is held.
      if (!answered && received.includes('\n')) {
        answered = true;
        holdTermWhileAnswering();
      }
    });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const failure = connectionError(path, error);
      if (error.code === 'EAGAIN' && !connected) notAccepted.add(failure);
      reject(failure);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const line = received.split('\n')[0] ?? '';
      if (line === '') {
        reject(new StewardError('ERR_CONTROL_UNAVAILABLE', `Steward closed the connection without an answer (${path})`));
        return;
      }
      try {
        resolve(JSON.parse(line) as Response);
      } catch {
        reject(new StewardError('ERR_CONTROL_UNAVAILABLE', `Steward sent an answer that is not JSON: ${line.slice(0, 200)}`));
      }
    });
  });
}

/** How long a SIGTERM that comes right after an answer waits for the command to finish with it. */
const ANSWER_TERM_HOLD_MS = 1000;

/**
 * A SIGTERM that comes once the answer is in waits a moment: the container's last stage signals
 * every process right after an answer it gave during the stop (an s6-rc change the stop
 * overtook), and the command should still say how that ended and exit with its own code. Still
 * running after ANSWER_TERM_HOLD_MS, it gets the signal as it came.
 */
function holdTermWhileAnswering(): void {
  let held = false;
  const hold = (): void => {
    held = true;
  };
  process.on('SIGTERM', hold);
  setTimeout(() => {
    process.off('SIGTERM', hold);
    if (held) process.kill(process.pid, 'SIGTERM');
  }, ANSWER_TERM_HOLD_MS).unref();
}

function connectionError(path: string, error: NodeJS.ErrnoException): StewardError {
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new StewardError('ERR_PERMISSION', `permission denied on the control socket ${path}`, {
      hint: 'Run as the user Steward runs as (root in most containers), or ask for STEWARD_CONTROL_GROUP to grant your group access',
    });
  }
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
    return new StewardError('ERR_CONTROL_UNAVAILABLE', `Steward is not running here: no control socket at ${path}`, {
      hint: 'Run this inside the container (docker exec), or set STEWARD_SOCKET to the socket path',
    });
  }
  return new StewardError('ERR_CONTROL_UNAVAILABLE', `cannot reach Steward at ${path}: ${error.code ?? error.message}`);
}
