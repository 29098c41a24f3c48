/**
 * The control protocol: one JSON request per connection, on one line; one JSON
 * response line back; then the server closes. Small, versioned, and parsed at the
 * boundary into fully checked types, so a bad message is an error, never a crash.
 * docs/control-protocol.md describes it for other clients.
 */

export const PROTOCOL_VERSION = 1;
/** A request larger than this is refused: no legitimate one comes close. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** A client must send its whole request within this time. */
export const REQUEST_DEADLINE_MS = 5000;

export type WaitCondition = 'up' | 'ready' | 'down' | 'finished' | 'restarted' | 'restarted-ready';
export const WAIT_CONDITIONS: readonly WaitCondition[] = ['up', 'ready', 'down', 'finished', 'restarted', 'restarted-ready'];

/**
 * restart is s6-svc -r (only a running service); restart-or-start also starts a stopped
 * one, as `steward restart` promises.
 */
export type StateAction = 'up' | 'down' | 'restart' | 'restart-or-start' | 'once' | 'no-restart' | 'down-file' | 'no-down-file';
export const STATE_ACTIONS: readonly StateAction[] = ['up', 'down', 'restart', 'restart-or-start', 'once', 'no-restart', 'down-file', 'no-down-file'];
/**
 * An action is a state change, or a signal to the run process ("signal:HUP") or to its
 * process group ("group-signal:KILL"), so s6-svc's letters keep their order in one request.
 */
export type Action = StateAction | `signal:${string}` | `group-signal:${string}`;

export function isAction(value: unknown): value is Action {
  if (typeof value !== 'string') return false;
  return STATE_ACTIONS.includes(value as StateAction) || /^(group-)?signal:[A-Za-z0-9+]{1,16}$/.test(value);
}

export type HaltAction = 'halt' | 'poweroff' | 'reboot';

/** Services are named, or given as directories (/run/service/NAME, a live dir, "."). */
export interface Targets {
  readonly names: readonly string[];
  readonly dirs: readonly string[];
}

export type Request =
  | { readonly cmd: 'ping' }
  | ({ readonly cmd: 'status' } & Targets)
  | ({ readonly cmd: 'control'; readonly actions: readonly Action[]; readonly wait: WaitCondition | null; readonly timeoutMs: number } & Targets)
  | ({ readonly cmd: 'signal'; readonly signal: string; readonly group: boolean } & Targets)
  /** `ownProcess`: the asker is one of Steward's own processes (a script, a service), not a docker exec. */
  | ({ readonly cmd: 'wait'; readonly condition: WaitCondition; readonly any: boolean; readonly timeoutMs: number; readonly ownProcess?: boolean } & Targets)
  | { readonly cmd: 'graph' }
  | { readonly cmd: 'ready' }
  /** `requester`: the asking process's pid, by which a boot script's own halt is told apart. */
  | { readonly cmd: 'halt'; readonly action: HaltAction; readonly exitCode: number | null; readonly requester?: number }
  | { readonly cmd: 'scan'; readonly prune: boolean }
  /** The death tally of services (s6-svdt); `clear` empties it first (s6-svdt-clear). */
  | ({ readonly cmd: 'deaths'; readonly clear: boolean } & Targets)
  | {
      readonly cmd: 'rc';
      readonly op: 'change' | 'list' | 'listall';
      readonly direction: 'up' | 'down';
      readonly names: readonly string[];
      /** Add the services that are up to the selection (s6-rc -a). */
      readonly active: boolean;
      /** change: also bring the rest the other way (s6-rc -p). */
      readonly prune: boolean;
      /** change: say what would be done, do nothing (s6-rc -n). */
      readonly dryRun: boolean;
      /** change: services marked flag-essential come down too (s6-rc -D). */
      readonly essential: boolean;
      readonly timeoutMs: number;
    };

/** One step of a change as it happened, in order: what s6-rc prints of it at -v 2. */
export interface RcTransition {
  readonly name: string;
  /** `essential`: a stop left it up, as marked flag-essential (s6-rc says so from -v 1). */
  readonly event: 'starting' | 'started' | 'failed' | 'stopping' | 'stopped' | 'unstopped' | 'essential';
  /** Why it failed to start or stop. */
  readonly reason?: string;
}

export type ControlErrorCode =
  | 'ERR_BAD_REQUEST'
  | 'ERR_TOO_LARGE'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_UNKNOWN_SERVICE'
  | 'ERR_BAD_SIGNAL'
  | 'ERR_TIMEOUT'
  | 'ERR_SHUTTING_DOWN'
  | 'ERR_PERMANENT_FAILURE'
  | 'ERR_PERMISSION'
  | 'ERR_NOT_RUNNING'
  | 'ERR_BOOTING'
  | 'ERR_BUSY'
  | 'ERR_INTERNAL';

export interface ControlErrorBody {
  readonly code: ControlErrorCode;
  readonly message: string;
  readonly hint?: string;
  /** Services concerned, for example the ones a wait did not see reach its condition. */
  readonly names?: readonly string[];
  /** rc change: the steps taken before it failed or ran out of time, in order. */
  readonly transitions?: readonly RcTransition[];
}

export type Response = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: ControlErrorBody };

export function failure(code: ControlErrorCode, message: string, extra: { hint?: string; names?: readonly string[]; transitions?: readonly RcTransition[] } = {}): Response {
  return { ok: false, error: { code, message, ...extra } };
}

export function success(result: unknown): Response {
  return { ok: true, result };
}

type Fields = Record<string, unknown>;

/** Turns a parsed JSON value into a Request, or explains what is wrong with it. */
export function parseRequest(value: unknown): Request | ControlErrorBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the request must be a JSON object');
  const fields = value as Fields;
  if (fields['v'] !== undefined && fields['v'] !== PROTOCOL_VERSION) {
    return bad(
      typeof fields['v'] === 'number'
        ? `protocol version ${fields['v']} is not supported; this server speaks ${PROTOCOL_VERSION}`
        : `field "v" must be the number ${PROTOCOL_VERSION} (the protocol version), not ${JSON.stringify(fields['v'])}`,
    );
  }
  const cmd = fields['cmd'];
  switch (cmd) {
    case 'ping':
      return { cmd };
    case 'graph':
    case 'ready':
      return { cmd };
    case 'status': {
      const targets = readTargets(fields, true);
      return 'code' in targets ? targets : { cmd, ...targets };
    }
    case 'control': {
      const targets = readTargets(fields, false);
      if ('code' in targets) return targets;
      const actions = fields['actions'];
      if (!Array.isArray(actions) || actions.length === 0 || actions.length > 64 || !actions.every(isAction)) {
        return bad(`actions must be a non-empty list of ${STATE_ACTIONS.join(', ')}, signal:NAME or group-signal:NAME`);
      }
      const wait = fields['wait'] ?? null;
      if (wait !== null && !WAIT_CONDITIONS.includes(wait as WaitCondition)) return bad(`wait must be null or one of ${WAIT_CONDITIONS.join(', ')}`);
      const timeoutMs = readTimeout(fields);
      if (typeof timeoutMs !== 'number') return timeoutMs;
      return { cmd, ...targets, actions, wait: wait as WaitCondition | null, timeoutMs };
    }
    case 'signal': {
      const targets = readTargets(fields, false);
      if ('code' in targets) return targets;
      const given = fields['signal'];
      // A JSON number as well as its text ("1"), as the CLI's `steward signal 1 NAME` takes it.
      const signal = typeof given === 'number' && Number.isSafeInteger(given) && given >= 0 ? String(given) : given;
      if (typeof signal !== 'string' || signal.length > 32) return bad('signal must be a signal name or number');
      return { cmd, ...targets, signal, group: fields['group'] === true };
    }
    case 'wait': {
      const targets = readTargets(fields, false);
      if ('code' in targets) return targets;
      const condition = fields['condition'];
      if (!WAIT_CONDITIONS.includes(condition as WaitCondition)) return bad(`condition must be one of ${WAIT_CONDITIONS.join(', ')}`);
      const timeoutMs = readTimeout(fields);
      if (typeof timeoutMs !== 'number') return timeoutMs;
      return { cmd, ...targets, condition: condition as WaitCondition, any: fields['any'] === true, timeoutMs, ...(fields['ownProcess'] === true ? { ownProcess: true } : {}) };
    }
    case 'rc': {
      const op = fields['op'];
      if (op !== 'change' && op !== 'list' && op !== 'listall') return bad('op must be change, list or listall');
      const direction = fields['direction'] ?? 'up';
      if (direction !== 'up' && direction !== 'down') return bad('direction must be up or down');
      const names = readStrings(fields, 'names');
      if (!Array.isArray(names)) return names;
      const timeoutMs = readTimeout(fields);
      if (typeof timeoutMs !== 'number') return timeoutMs;
      return { cmd, op, direction, names, active: fields['active'] === true, prune: fields['prune'] === true, dryRun: fields['dryRun'] === true, essential: fields['essential'] === true, timeoutMs };
    }
    case 'halt': {
      const action = fields['action'] ?? 'halt';
      if (action !== 'halt' && action !== 'poweroff' && action !== 'reboot') return bad('action must be halt, poweroff or reboot');
      const exitCode = fields['exitCode'] ?? null;
      if (exitCode !== null && !(Number.isInteger(exitCode) && (exitCode as number) >= 0 && (exitCode as number) <= 255)) {
        return bad('exitCode must be a whole number from 0 to 255');
      }
      const requester = fields['requester'];
      if (requester !== undefined && !(Number.isInteger(requester) && (requester as number) > 0)) return bad('requester must be a process id');
      return { cmd, action, exitCode: exitCode as number | null, ...(requester === undefined ? {} : { requester: requester as number }) };
    }
    case 'scan': {
      const prune = fields['prune'] ?? false;
      if (typeof prune !== 'boolean') return bad('prune must be true or false');
      return { cmd, prune };
    }
    case 'deaths': {
      const targets = readTargets(fields, false);
      if ('code' in targets) return targets;
      const clear = fields['clear'] ?? false;
      if (typeof clear !== 'boolean') return bad('clear must be true or false');
      return { cmd, ...targets, clear };
    }
    default:
      return bad(`unknown command ${JSON.stringify(cmd)}; known: ping, status, ready, control, signal, wait, graph, halt, rc, scan, deaths`);
  }
}

function bad(message: string): ControlErrorBody {
  return { code: 'ERR_BAD_REQUEST', message };
}

function readStrings(fields: Fields, key: string): string[] | ControlErrorBody {
  const value = fields[key] ?? [];
  if (!Array.isArray(value) || value.length > 10_000 || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 4096)) {
    return bad(`${key} must be a list of non-empty strings`);
  }
  return value as string[];
}

/** Services one request may name. */
export const MAX_TARGETS = 1024;

function readTargets(fields: Fields, allowEmpty: boolean): Targets | ControlErrorBody {
  const names = readStrings(fields, 'names');
  if (!Array.isArray(names)) return names;
  const dirs = readStrings(fields, 'dirs');
  if (!Array.isArray(dirs)) return dirs;
  if (!allowEmpty && names.length + dirs.length === 0) return bad('name at least one service');
  // Each is looked up on the main thread: a bound keeps one request from holding PID 1.
  if (names.length + dirs.length > MAX_TARGETS) return bad(`name at most ${MAX_TARGETS} services in one request (names and dirs together)`);
  return { names, dirs };
}

function readTimeout(fields: Fields): number | ControlErrorBody {
  const value = fields['timeoutMs'] ?? 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) return bad('timeoutMs must be a whole number of milliseconds, 0 for none');
  return value;
}

/**
 * Whether a request may take long to answer: it waits for services to reach a state (wait,
 * control with a wait, an s6-rc change). The server bounds how many run at once; the client
 * gives them their own timeout rather than the quick requests' limit.
 */
export function requestWaits(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const fields = message as { cmd?: unknown; wait?: unknown; op?: unknown };
  return fields.cmd === 'wait' || (fields.cmd === 'control' && fields.wait !== undefined && fields.wait !== null) || (fields.cmd === 'rc' && fields.op === 'change');
}
