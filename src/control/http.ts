import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { StewardError } from '../errors.js';
import { notReady } from './readiness.js';
import { statusRecord } from './status.js';
import type { ControlTarget } from './target.js';

/**
 * Optional probe endpoints for orchestrators (STEWARD_HTTP=127.0.0.1:PORT):
 *   /healthz  200 while the event loop runs (a stalled PID 1 cannot answer at all)
 *   /readyz   200 when every service that should be up is up (ready, with readiness), else 503
 *   /status   the status records as JSON
 * Every limit is tight: probes are tiny, and a slow client must not hold resources.
 */
const LIMITS = { connectionLifetimeMs: 5000, keepAliveTimeoutMs: 1000, maxConnections: 64, closeNoticeMs: 2000 };

/** When each connection opened: answers near the end of its lifetime tell the client to close it. */
const openedAt = new WeakMap<Socket, number>();

/**
 * Node enforces its header and request timeouts from a timer that runs every so often whether
 * or not a connection is open: an idle PID 1 would wake up for nothing. This one is as far off
 * as a timer goes; each connection has a deadline of its own instead (see limitLifetime).
 */
const NODE_CHECK_INTERVAL_MS = 2_147_483_647;

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
  /** Where to listen instead when `host` cannot be had: IPv4's any address, on a host without IPv6. */
  readonly fallbackHost?: string;
}

/**
 * Parses "PORT", ":PORT", "HOST:PORT" or "[IPV6]:PORT". A bare port binds to loopback; ":PORT"
 * to every address, as Go's and Prometheus's listeners read it: IPv6's any address, which takes
 * IPv4 too (a Kubernetes pod's IP may be either), or IPv4's alone where there is no IPv6.
 */
export function parseHttpAddress(text: string): HttpAddress {
  // PORT, :PORT, HOST:PORT or [IPv6]:PORT: a host is always followed by its colon.
  const match = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) {
    throw new StewardError('ERR_SETTING', `STEWARD_HTTP=${JSON.stringify(text)} is not an address`, {
      hint: 'Write PORT (127.0.0.1), :PORT (every address) or HOST:PORT, for example STEWARD_HTTP=:9090',
    });
  }
  const host = match[1] ?? match[2];
  if (host === undefined) return { host: '127.0.0.1', port };
  return host === '' ? { host: '::', port, fallbackHost: '0.0.0.0' } : { host, port };
}

/** node:http is loaded on first use: most containers serve no probes, and it costs start-up time. */
export async function probeServer(target: ControlTarget, now: () => number): Promise<Server> {
  const { createServer } = await import('node:http');
  const options = { requestTimeout: 0, headersTimeout: 0, connectionsCheckingInterval: NODE_CHECK_INTERVAL_MS };
  const server = createServer(options, (request, response) => {
    answer(request, response, target, now);
  });
  server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;
  keepNewestConnections(server, LIMITS.maxConnections);
  limitLifetime(server, LIMITS.connectionLifetimeMs);
  // A request Node cannot parse gets an answer a client can act on (as Node's own default
  // does), then the connection is closed; a socket already gone is only destroyed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // A client that never reads the answer must not keep the connection.
    setTimeout(() => socket.destroy(), LIMITS.keepAliveTimeoutMs).unref();
  });
  server.on('error', () => undefined);
  return server;
}

/**
 * Every connection is closed `lifetimeMs` after it opened, whatever it is doing: a probe is
 * answered as soon as its request is in, so only a client that trickles its request meets
 * this (one that keeps its connection is told to close it beforehand, see answer), and a
 * timer per connection runs only while the connection does.
 */
function limitLifetime(server: Server, lifetimeMs: number): void {
  server.on('connection', (socket: Socket) => {
    openedAt.set(socket, Date.now());
    const deadline = setTimeout(() => socket.destroy(), lifetimeMs);
    socket.once('close', () => clearTimeout(deadline));
  });
}

/**
 * At most `limit` connections, the newest: past it, the oldest is dropped. Refusing the new
 * one instead (Node's maxConnections) would let a few dozen idle or trickling clients keep
 * out the orchestrator's probes until their lifetime ends; a probe is answered as
 * soon as its request is in, so the oldest connection is never one being answered.
 */
function keepNewestConnections(server: Server, limit: number): void {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size <= limit) return;
    const oldest = open.values().next().value;
    if (oldest !== undefined && oldest !== socket) {
      open.delete(oldest);
      oldest.destroy();
    }
  });
}

function answer(request: IncomingMessage, response: ServerResponse, target: ControlTarget, now: () => number): void {
  response.on('error', () => undefined);
  // A client that keeps one connection for its probes (one a second, say) is told to close it
  // in time, rather than finding it gone under a request when its lifetime ends.
  const opened = openedAt.get(request.socket);
  if (opened !== undefined && Date.now() - opened >= LIMITS.connectionLifetimeMs - LIMITS.closeNoticeMs) response.setHeader('Connection', 'close');
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { error: 'use GET' });
  const path = (request.url ?? '/').split('?')[0];
  const time = now();
  switch (path) {
    case '/healthz':
      return send(response, 200, { status: 'ok', stopping: target.isStopping() });
    case '/readyz': {
      const reasons = notReady(target, time);
      return send(response, reasons.length === 0 ? 200 : 503, { ready: reasons.length === 0, reasons });
    }
    case '/status':
      return send(response, 200, {
        stopping: target.isStopping(),
        services: [...target.supervisors.values()].map((supervisor) => statusRecord(target, supervisor, time)),
      });
    default:
      return send(response, 404, { error: 'not found; try /healthz, /readyz or /status' });
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
