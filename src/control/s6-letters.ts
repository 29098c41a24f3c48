import type { Action } from './protocol.js';

/**
 * s6-svc's command letters, which s6-svc passes on to the supervisor as they are:
 * Steward's s6-svc sends their meaning over the socket, and the supervise/control
 * fifo (for s6's own s6-svc) reads the same letters.
 */
const SIGNAL_LETTERS: Readonly<Record<string, string>> = {
  a: 'ALRM', b: 'ABRT', q: 'QUIT', h: 'HUP', k: 'KILL', t: 'TERM', i: 'INT', '1': 'USR1', '2': 'USR2', p: 'STOP', c: 'CONT', y: 'WINCH', l: 'HUP',
};
/** The whole process group (s6 2.13). */
const GROUP_SIGNAL_LETTERS: Readonly<Record<string, string>> = { P: 'STOP', C: 'CONT', K: 'KILL' };
const STATE_LETTERS: Readonly<Record<string, readonly Action[]>> = {
  u: ['up'],
  U: ['no-down-file', 'up'],
  d: ['down'],
  D: ['down-file', 'down'],
  o: ['once'],
  O: ['no-restart'],
  Q: ['down-file', 'no-restart'],
  r: ['restart'],
};

/**
 * What one letter asks for; empty for the ones with nothing to do in Steward (x and X
 * make s6-supervise exit, and Steward has one supervisor for everything), undefined
 * for a letter s6-svc does not have.
 */
export function actionsOfLetter(letter: string): readonly Action[] | undefined {
  if (letter === 'x' || letter === 'X') return [];
  const signal = SIGNAL_LETTERS[letter];
  if (signal !== undefined) return [`signal:${signal}`];
  const groupSignal = GROUP_SIGNAL_LETTERS[letter];
  if (groupSignal !== undefined) return [`group-signal:${groupSignal}`];
  return STATE_LETTERS[letter];
}
