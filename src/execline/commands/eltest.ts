import { accessSync, constants, lstatSync, statSync, type BigIntStats } from 'node:fs';
import { resolve } from 'node:path';

import { isTerminal } from '../../sys/ffi/descriptors.js';
import type { Command } from '../command.js';
import { ExeclineError } from '../options.js';
import { posixExtendedRegex, RegexSyntaxError } from '../posix-regex.js';
import type { ScriptNode } from '../script.js';
import type { ChainState } from '../state.js';

/**
 * eltest (and s6-portable-utils' s6-test, the same program): test(1)'s expressions with GNU's
 * and bash's extensions (-v VAR, =~ ERE, <, <=, >, >=, -nt, -ot, -ef, -k, -O, -G, -N), exit 0
 * when true, 1 when false, 100 for an expression it cannot read. Unlike test(1), a word that
 * is an operator is always the operator; a leading backslash makes any other word plain.
 */

const UNARY = new Set(['-n', '-z', '-f', '-h', '-L', '-e', '-k', '-b', '-c', '-d', '-g', '-p', '-r', '-s', '-t', '-u', '-w', '-x', '-O', '-U', '-G', '-S', '-N', '-v']);
const BINARY = new Set(['=', '!=', '-eq', '-ne', '-gt', '-ge', '-lt', '-le', '-nt', '-ot', '-ef', '<', '<=', '>', '>=', '=~']);
const CONNECTIVES = new Set(['-a', '-o', '!', '(', ')']);

type Token = { readonly operator: string; readonly at: number } | { readonly word: string; readonly at: number };

type Expression =
  | { readonly kind: 'word'; readonly word: string }
  | { readonly kind: 'unary'; readonly operator: string; readonly operand: string }
  | { readonly kind: 'binary'; readonly operator: string; readonly left: string; readonly right: string }
  | { readonly kind: 'not'; readonly operand: Expression }
  | { readonly kind: 'and' | 'or'; readonly left: Expression; readonly right: Expression };

function lex(args: readonly string[]): Token[] {
  return args.map((arg, at) => (UNARY.has(arg) || BINARY.has(arg) || CONNECTIVES.has(arg) ? { operator: arg, at } : { word: arg.startsWith('\\') ? arg.slice(1) : arg, at }));
}

/** Recursive descent: -o binds loosest, then -a, then !, then a primary. */
function parse(tokens: readonly Token[]): Expression {
  let position = 0;
  const parseError = (): ExeclineError => new ExeclineError(`parse error at argument ${tokens[position]?.at ?? tokens.length}`);
  const isOperator = (operator: string): boolean => {
    const token = tokens[position];
    return token !== undefined && 'operator' in token && token.operator === operator;
  };
  const word = (): string => {
    const token = tokens[position];
    if (token === undefined || !('word' in token)) throw parseError();
    position++;
    return token.word;
  };
  const primary = (): Expression => {
    const token = tokens[position];
    if (token === undefined) throw parseError();
    if ('word' in token) {
      position++;
      const next = tokens[position];
      if (next !== undefined && 'operator' in next && BINARY.has(next.operator)) {
        position++;
        return { kind: 'binary', operator: next.operator, left: token.word, right: word() };
      }
      return { kind: 'word', word: token.word };
    }
    if (UNARY.has(token.operator)) {
      position++;
      return { kind: 'unary', operator: token.operator, operand: word() };
    }
    if (token.operator === '(') {
      position++;
      const inner = or();
      if (position >= tokens.length) throw new ExeclineError('parse error: too many left parentheses');
      if (!isOperator(')')) throw parseError();
      position++;
      return inner;
    }
    throw parseError();
  };
  const not = (): Expression => {
    if (!isOperator('!')) return primary();
    position++;
    return { kind: 'not', operand: not() };
  };
  const and = (): Expression => {
    let left = not();
    while (isOperator('-a')) {
      position++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const or = (): Expression => {
    let left = and();
    while (isOperator('-o')) {
      position++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const expression = or();
  if (isOperator(')')) throw new ExeclineError(`parse error: bad right parenthesis at argument ${position}`);
  if (position < tokens.length) throw parseError();
  return expression;
}

/**
 * An integer as skalibs' int_scan reads it: a sign, then as many digits as fit in 32 unsigned
 * bits, the rest of the word ignored, the result taken as a 32-bit int. Undefined without a digit.
 */
function scanInteger(text: string): number | undefined {
  const match = /^([+-]?)(\d+)/.exec(text);
  if (match === null) return undefined;
  let value = 0;
  for (const digit of match[2] ?? '') {
    const next = value * 10 + Number(digit);
    if (next > 0xffffffff) break;
    value = next;
  }
  return (match[1] === '-' ? -value : value) | 0;
}

const INTEGER_TESTS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '-eq': (a, b) => a === b,
  '-ne': (a, b) => a !== b,
  '-gt': (a, b) => a > b,
  '-ge': (a, b) => a >= b,
  '-lt': (a, b) => a < b,
  '-le': (a, b) => a <= b,
};

/** strcmp's order: bytes, not UTF-16 units. */
const compareBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const STRING_TESTS: Readonly<Record<string, (order: number) => boolean>> = {
  '=': (order) => order === 0,
  '!=': (order) => order !== 0,
  '<': (order) => order < 0,
  '<=': (order) => order <= 0,
  '>': (order) => order > 0,
  '>=': (order) => order >= 0,
};

function statOf(path: string, follow = true): BigIntStats | undefined {
  try {
    return follow ? statSync(path, { bigint: true }) : lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * access(2) as the account the chain runs as: s6-setuidgid changes the interpreter's own
 * (a block goes on in a process of its own), so the answer is this process's.
 */
function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

const FILE_TYPES: Readonly<Record<string, number>> = { '-b': 0o060000, '-c': 0o020000, '-d': 0o040000, '-f': 0o100000, '-p': 0o010000, '-S': 0o140000, '-h': 0o120000, '-L': 0o120000 };
const MODE_BITS: Readonly<Record<string, number>> = { '-g': 0o2000, '-u': 0o4000, '-k': 0o1000 };

function unary(operator: string, operand: string, state: ChainState): boolean {
  if (operator === '-n') return operand !== '';
  if (operator === '-z') return operand === '';
  if (operator === '-v') return state.env.has(operand);
  if (operator === '-t') {
    if (!/^\d+$/.test(operand)) throw new ExeclineError(`${operator} requires an integer argument`);
    // The program's descriptor, as the chain's redirfd, fdmove and fdclose leave it: the
    // interpreter's own that it will be a copy of, if any. Through the C library: node:tty
    // would load node:net and its streams into every start of PID 1 and of the s6 commands.
    const source = state.programDescriptors().get(Number(operand));
    return source !== undefined && isTerminal(source);
  }
  const path = resolve(state.cwd, operand);
  if (operator === '-e') return accessible(path, constants.F_OK);
  if (operator === '-r') return accessible(path, constants.R_OK);
  if (operator === '-w') return accessible(path, constants.W_OK);
  if (operator === '-x') return accessible(path, constants.X_OK);
  const stats = statOf(path, operator !== '-h' && operator !== '-L');
  if (stats === undefined) return false;
  const type = FILE_TYPES[operator];
  if (type !== undefined) return (Number(stats.mode) & 0o170000) === type;
  const bit = MODE_BITS[operator];
  if (bit !== undefined) return (Number(stats.mode) & bit) !== 0;
  if (operator === '-s') return stats.size > 0n;
  if (operator === '-N') return stats.mtimeNs > stats.atimeNs;
  if (operator === '-O' || operator === '-U') return Number(stats.uid) === process.geteuid?.();
  return Number(stats.gid) === process.getegid?.();
}

function binary(operator: string, left: string, right: string, state: ChainState): boolean {
  const stringTest = STRING_TESTS[operator];
  if (stringTest !== undefined) return stringTest(compareBytes(left, right));
  const integerTest = INTEGER_TESTS[operator];
  if (integerTest !== undefined) {
    const a = scanInteger(left);
    const b = scanInteger(right);
    if (a === undefined || b === undefined) throw new ExeclineError(`${operator} requires integer arguments`);
    return integerTest(a, b);
  }
  if (operator === '=~') {
    try {
      return posixExtendedRegex(right).test(left);
    } catch (error) {
      if (error instanceof RegexSyntaxError) throw new ExeclineError(`unable to compile ${right} into a regular expression: ${error.message}`);
      throw error;
    }
  }
  const first = statOf(resolve(state.cwd, left));
  const second = statOf(resolve(state.cwd, right));
  // As skarnet's: a missing first file makes -ot true, a missing second -nt and -ef true.
  if (operator === '-nt') return first === undefined ? false : second === undefined ? true : first.mtimeNs > second.mtimeNs;
  if (operator === '-ot') return first === undefined ? true : second === undefined ? false : first.mtimeNs < second.mtimeNs;
  return first === undefined ? false : second === undefined ? true : first.dev === second.dev && first.ino === second.ino;
}

function evaluate(expression: Expression, state: ChainState): boolean {
  switch (expression.kind) {
    case 'word':
      return expression.word !== '';
    case 'unary':
      return unary(expression.operator, expression.operand, state);
    case 'binary':
      return binary(expression.operator, expression.left, expression.right, state);
    case 'not':
      return !evaluate(expression.operand, state);
    case 'and':
      return evaluate(expression.left, state) && evaluate(expression.right, state);
    case 'or':
      return evaluate(expression.left, state) || evaluate(expression.right, state);
  }
}

/** Whether the expression in `args` holds for the chain's environment, directory and account. */
export function eltestHolds(args: readonly string[], state: ChainState): boolean {
  if (args.length === 0) return false;
  return evaluate(parse(lex(args)), state);
}

const eltest: Command = {
  usage: 'eltest expression...',
  run(args: readonly ScriptNode[], context) {
    const words = args.map((arg) => {
      if (typeof arg !== 'string') throw new ExeclineError(`an expression is words, not a { block }; usage: ${this.usage}`);
      return arg;
    });
    return { exit: eltestHolds(words, context.state) ? 0 : 1 };
  },
};

export const testCommands: ReadonlyMap<string, Command> = new Map([
  ['eltest', eltest],
  ['s6-test', eltest],
]);
