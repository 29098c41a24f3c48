import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  failure,
  isAction,
  parseRequest,
  PROTOCOL_VERSION,
  STATE_ACTIONS,
  success,
  WAIT_CONDITIONS,
  type ControlErrorBody,
  type Request,
} from '../../src/control/protocol.js';
import { random } from '../helpers/random.js';

function parsed(value: unknown): Request {
  const result = parseRequest(value);
  assert.ok(!('code' in result), `expected a request, got ${JSON.stringify(result)}`);
  return result;
}

/** One field of a request that must parse. */
function fieldOf(value: unknown, key: string): unknown {
  return (parsed(value) as unknown as Record<string, unknown>)[key];
}

function rejected(value: unknown, message?: RegExp): ControlErrorBody {
  const result = parseRequest(value);
  assert.ok('code' in result, `expected an error for ${JSON.stringify(value)}, got ${JSON.stringify(result)}`);
  assert.equal(result.code, 'ERR_BAD_REQUEST');
  if (message !== undefined) assert.match(result.message, message);
  return result;
}

describe('parseRequest: the envelope', () => {
  it('rejects anything that is not a JSON object', () => {
    for (const value of [null, undefined, 42, 'status', true, [], [{ cmd: 'ping' }]]) rejected(value, /must be a JSON object/);
  });

  it('accepts version 1 or no version, and names the supported version otherwise', () => {
    assert.deepEqual(parsed({ cmd: 'ping' }), { cmd: 'ping' });
    assert.deepEqual(parsed({ v: PROTOCOL_VERSION, cmd: 'ping' }), { cmd: 'ping' });
    for (const v of [2, 0]) rejected({ v, cmd: 'ping' }, /protocol version .* is not supported; this server speaks 1/);
    for (const v of ['1', null]) rejected({ v, cmd: 'ping' }, /field "v" must be the number 1 \(the protocol version\), not ("1"|null)/);
  });

  it('reads a deaths request: services, and whether to clear their tallies', () => {
    assert.deepEqual(parseRequest({ cmd: 'deaths', dirs: ['/run/service/web'] }), { cmd: 'deaths', names: [], dirs: ['/run/service/web'], clear: false });
    assert.deepEqual(parseRequest({ cmd: 'deaths', names: ['web'], clear: true }), { cmd: 'deaths', names: ['web'], dirs: [], clear: true });
    rejected({ cmd: 'deaths', names: ['web'], clear: 'yes' }, /clear must be true or false/);
    rejected({ cmd: 'deaths' }, /name at least one service/);
  });

  it('rejects an unknown or missing command and lists the known ones', () => {
    const error = rejected({ cmd: 'reboot-now' }, /unknown command "reboot-now"/);
    assert.match(error.message, /known: ping, status, ready, control, signal, wait, graph, halt, rc, scan, deaths$/);
    rejected({}, /unknown command undefined/);
    rejected({ cmd: ['status'] }, /unknown command/);
  });

  it('bounds the services one request names, so that no request can hold PID 1 for long', () => {
    const many = Array.from({ length: 1025 }, (_, index) => `/run/service/s${index}`);
    rejected({ cmd: 'status', dirs: many }, /name at most 1024 services in one request/);
    assert.equal(parsed({ cmd: 'status', dirs: many.slice(1) }).cmd, 'status');
  });

  it('reads a scan request: prune is false unless given, and must be a boolean', () => {
    assert.deepEqual(parsed({ cmd: 'scan' }), { cmd: 'scan', prune: false });
    assert.deepEqual(parsed({ cmd: 'scan', prune: true }), { cmd: 'scan', prune: true });
    rejected({ cmd: 'scan', prune: 'yes' }, /prune must be true or false/);
  });

  it('drops fields it does not know, so the result carries only checked values', () => {
    assert.deepEqual(parsed({ cmd: 'graph', extra: { deep: true } }), { cmd: 'graph' });
    assert.deepEqual(parsed({ cmd: 'status', names: ['web'], admin: true }), { cmd: 'status', names: ['web'], dirs: [] });
  });
});

describe('parseRequest: service targets', () => {
  it('status may name no service (meaning all of them)', () => {
    assert.deepEqual(parsed({ cmd: 'status' }), { cmd: 'status', names: [], dirs: [] });
  });

  it('control, signal and wait must name at least one service, by name or directory', () => {
    rejected({ cmd: 'control', actions: ['up'] }, /name at least one service/);
    rejected({ cmd: 'signal', signal: 'HUP', names: [], dirs: [] }, /name at least one service/);
    rejected({ cmd: 'wait', condition: 'up' }, /name at least one service/);
    assert.deepEqual(parsed({ cmd: 'wait', condition: 'up', dirs: ['/run/service/web'] }), {
      cmd: 'wait',
      names: [],
      dirs: ['/run/service/web'],
      condition: 'up',
      any: false,
      timeoutMs: 0,
    });
  });

  it('names and dirs must be lists of non-empty strings of bounded size', () => {
    for (const names of ['web', [''], [1], [null], [['web']], ['x'.repeat(4097)]]) rejected({ cmd: 'status', names }, /names must be a list of non-empty strings/);
    rejected({ cmd: 'status', dirs: 'web' }, /dirs must be a list/);
    rejected({ cmd: 'status', names: Array.from({ length: 10_001 }, () => 'web') }, /names must be a list/);
    assert.equal((fieldOf({ cmd: 'status', names: ['x'.repeat(4096)] }, 'names') as string[])[0]?.length, 4096);
  });
});

describe('parseRequest: control', () => {
  it('takes a list of actions, an optional wait condition and a timeout', () => {
    assert.deepEqual(parsed({ cmd: 'control', names: ['web'], actions: ['down-file', 'down'], wait: 'finished', timeoutMs: 3000 }), {
      cmd: 'control',
      names: ['web'],
      dirs: [],
      actions: ['down-file', 'down'],
      wait: 'finished',
      timeoutMs: 3000,
    });
  });

  it('defaults to no wait and no timeout', () => {
    assert.equal(fieldOf({ cmd: 'control', names: ['web'], actions: ['up'] }, 'wait'), null);
    assert.equal(fieldOf({ cmd: 'control', names: ['web'], actions: ['up'] }, 'timeoutMs'), 0);
  });

  it('rejects an empty, too long or unknown list of actions', () => {
    for (const actions of [undefined, [], 'up', ['start'], ['up', 'sideways'], ['signal:'], ['signal:HUP;rm'], Array.from({ length: 65 }, () => 'up')]) {
      rejected({ cmd: 'control', names: ['web'], actions }, /actions must be a non-empty list of up, down, restart/);
    }
    assert.equal((fieldOf({ cmd: 'control', names: ['web'], actions: Array.from({ length: 64 }, () => 'up') }, 'actions') as unknown[]).length, 64);
  });

  it('rejects a wait condition it does not know', () => {
    rejected({ cmd: 'control', names: ['web'], actions: ['up'], wait: 'happy' }, /wait must be null or one of up, ready, down, finished, restarted, restarted-ready/);
  });

  it('accepts only whole, non-negative timeouts that a timer can hold', () => {
    for (const timeoutMs of [-1, 1.5, '100', Number.NaN, Infinity, 2_147_483_648]) {
      rejected({ cmd: 'control', names: ['web'], actions: ['up'], timeoutMs }, /timeoutMs must be a whole number of milliseconds/);
    }
    assert.equal(fieldOf({ cmd: 'control', names: ['web'], actions: ['up'], timeoutMs: 2_147_483_647 }, 'timeoutMs'), 2_147_483_647);
  });
});

describe('parseRequest: signal, wait, halt', () => {
  it('signal takes a name or number as text, and group only when it is exactly true', () => {
    assert.deepEqual(parsed({ cmd: 'signal', names: ['web'], signal: 'HUP' }), { cmd: 'signal', names: ['web'], dirs: [], signal: 'HUP', group: false });
    assert.equal(fieldOf({ cmd: 'signal', names: ['web'], signal: '1', group: true }, 'group'), true);
    assert.equal(fieldOf({ cmd: 'signal', names: ['web'], signal: '1', group: 'yes' }, 'group'), false);
    // A JSON number is its text, as the CLI's `steward signal 1 NAME`.
    assert.equal(fieldOf({ cmd: 'signal', names: ['web'], signal: 1 }, 'signal'), '1');
    for (const signal of [undefined, -1, 1.5, true, 'X'.repeat(33)]) rejected({ cmd: 'signal', names: ['web'], signal }, /signal must be a signal name or number/);
  });

  it('wait needs a known condition; any is true only when it is exactly true', () => {
    for (const condition of WAIT_CONDITIONS) assert.equal(fieldOf({ cmd: 'wait', names: ['web'], condition }, 'condition'), condition);
    rejected({ cmd: 'wait', names: ['web'] }, /condition must be one of/);
    rejected({ cmd: 'wait', names: ['web'], condition: 'UP' }, /condition must be one of/);
    assert.equal(fieldOf({ cmd: 'wait', names: ['web'], condition: 'up', any: true }, 'any'), true);
    assert.equal(fieldOf({ cmd: 'wait', names: ['web'], condition: 'up', any: 1 }, 'any'), false);
    rejected({ cmd: 'wait', names: ['web'], condition: 'up', timeoutMs: -5 }, /timeoutMs/);
  });

  it('rc takes an operation, a direction (up by default), service or bundle names, active, prune, dryRun, essential and a timeout', () => {
    assert.deepEqual(parsed({ cmd: 'rc', op: 'change', names: ['user'] }), { cmd: 'rc', op: 'change', direction: 'up', names: ['user'], active: false, prune: false, dryRun: false, essential: false, timeoutMs: 0 });
    assert.deepEqual(parsed({ cmd: 'rc', op: 'list', active: true }), { cmd: 'rc', op: 'list', direction: 'up', names: [], active: true, prune: false, dryRun: false, essential: false, timeoutMs: 0 });
    assert.deepEqual(parsed({ cmd: 'rc', op: 'change', direction: 'down', active: true, prune: true, dryRun: true, essential: true }), { cmd: 'rc', op: 'change', direction: 'down', names: [], active: true, prune: true, dryRun: true, essential: true, timeoutMs: 0 });
    assert.equal(fieldOf({ cmd: 'rc', op: 'listall', direction: 'down', names: ['web'] }, 'direction'), 'down');
    rejected({ cmd: 'rc', op: 'start' }, /op must be change, list or listall/);
    rejected({ cmd: 'rc', op: 'change', direction: 'sideways' }, /direction must be up or down/);
    rejected({ cmd: 'rc', op: 'change', names: 'web' }, /names must be a list/);
    rejected({ cmd: 'rc', op: 'change', names: ['web'], timeoutMs: -1 }, /timeoutMs/);
  });

  it('halt defaults to action halt and no exit code', () => {
    assert.deepEqual(parsed({ cmd: 'halt' }), { cmd: 'halt', action: 'halt', exitCode: null });
    assert.deepEqual(parsed({ cmd: 'halt', action: 'reboot', exitCode: 0 }), { cmd: 'halt', action: 'reboot', exitCode: 0 });
    assert.deepEqual(parsed({ cmd: 'halt', action: 'poweroff', exitCode: 255 }), { cmd: 'halt', action: 'poweroff', exitCode: 255 });
    assert.deepEqual(parsed({ cmd: 'halt', requester: 42 }), { cmd: 'halt', action: 'halt', exitCode: null, requester: 42 });
    rejected({ cmd: 'halt', action: 'explode' }, /action must be halt, poweroff or reboot/);
    for (const requester of [0, -3, 1.5, '42']) rejected({ cmd: 'halt', requester }, /requester must be a process id/);
  });

  it('halt takes an exit code from 0 to 255 only', () => {
    for (const exitCode of [-1, 256, 1.5, '3', true]) rejected({ cmd: 'halt', exitCode }, /exitCode must be a whole number from 0 to 255/);
  });
});

describe('isAction', () => {
  it('knows every state action, and signals to the process or its group', () => {
    for (const action of STATE_ACTIONS) assert.ok(isAction(action), action);
    for (const action of ['signal:HUP', 'signal:SIGUSR1', 'signal:9', 'group-signal:KILL', 'signal:RTMIN+3']) assert.ok(isAction(action), action);
  });

  it('refuses what could not be a signal name, and non-strings', () => {
    for (const action of ['signal:', 'signal:HUP TERM', 'group-signal:../x', 'signal:ABCDEFGHIJKLMNOPQ', 'hup', 'UP', 7, null, ['up']]) assert.ok(!isAction(action), String(action));
  });
});

describe('responses', () => {
  it('success wraps a result; failure carries a code, a message and optional hint and names', () => {
    assert.deepEqual(success({ pong: true }), { ok: true, result: { pong: true } });
    assert.deepEqual(failure('ERR_TIMEOUT', 'not up', { names: ['web'] }), { ok: false, error: { code: 'ERR_TIMEOUT', message: 'not up', names: ['web'] } });
    assert.deepEqual(failure('ERR_BAD_SIGNAL', 'no', { hint: 'try HUP' }), { ok: false, error: { code: 'ERR_BAD_SIGNAL', message: 'no', hint: 'try HUP' } });
  });
});


describe('parseRequest: fuzzing', () => {
  const KEYS = ['v', 'cmd', 'names', 'dirs', 'actions', 'wait', 'timeoutMs', 'signal', 'group', 'condition', 'any', 'action', 'exitCode', 'op', 'direction', 'active', 'constructor'];
  const COMMANDS = ['ping', 'status', 'ready', 'control', 'signal', 'wait', 'graph', 'halt', 'rc'];
  const WORDS = [...STATE_ACTIONS, ...WAIT_CONDITIONS, 'signal:HUP', 'halt', 'reboot', 'change', 'list', 'listall', ''];

  function value(next: () => number, depth: number): unknown {
    const pick = Math.floor(next() * 11);
    switch (pick) {
      case 0:
        return null;
      case 1:
        return next() < 0.5;
      case 2:
        return Math.floor((next() - 0.5) * 2 ** (next() * 40));
      case 3:
        return [Number.NaN, Infinity, -0, 1e308, 0.5][Math.floor(next() * 5)];
      case 4:
        return COMMANDS[Math.floor(next() * COMMANDS.length)];
      case 5:
        return WORDS[Math.floor(next() * WORDS.length)];
      case 6:
        return String.fromCharCode(...Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * 0x2fff)));
      case 7:
      case 8:
        return depth > 3 ? [] : Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
      default:
        return depth > 3 ? {} : object(next, depth + 1);
    }
  }

  function object(next: () => number, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    if (next() < 0.8) result['cmd'] = COMMANDS[Math.floor(next() * COMMANDS.length)];
    const count = Math.floor(next() * 6);
    for (let index = 0; index < count; index++) result[KEYS[Math.floor(next() * KEYS.length)] ?? 'x'] = value(next, depth);
    return result;
  }

  it('returns a checked request or ERR_BAD_REQUEST for 2,000 random messages, and never throws', () => {
    const next = random(0x5eed);
    let accepted = 0;
    for (let index = 0; index < 2000; index++) {
      const message = index % 4 === 0 ? value(next, 0) : object(next, 0);
      let result: ReturnType<typeof parseRequest>;
      try {
        result = parseRequest(message);
      } catch (error) {
        assert.fail(`case ${index} threw ${String(error)} for ${JSON.stringify(message)}`);
      }
      if ('code' in result) {
        assert.equal(result.code, 'ERR_BAD_REQUEST', `case ${index}`);
        assert.equal(typeof result.message, 'string');
        continue;
      }
      accepted++;
      assert.ok(COMMANDS.includes(result.cmd), `case ${index}: ${result.cmd}`);
      if ('names' in result) assert.ok(result.names.every((name) => typeof name === 'string' && name.length > 0), `case ${index}`);
      if ('dirs' in result) assert.ok(result.dirs.every((dir) => typeof dir === 'string' && dir.length > 0), `case ${index}`);
      if ('timeoutMs' in result) assert.ok(Number.isInteger(result.timeoutMs) && result.timeoutMs >= 0, `case ${index}`);
      if (result.cmd === 'control') assert.ok(result.actions.every(isAction), `case ${index}`);
      if (result.cmd === 'halt') assert.ok(result.exitCode === null || (Number.isInteger(result.exitCode) && result.exitCode >= 0 && result.exitCode <= 255));
    }
    // The generator must reach past the envelope checks, or this test proves little.
    assert.ok(accepted > 100, `only ${accepted} of 2000 random messages were valid requests`);
  });
});
