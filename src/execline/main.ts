import { readFileSync } from 'node:fs';

import { StewardError } from '../errors.js';
import { inheritedDescriptors } from '../sys/proc.js';
import { ExeclineError } from './options.js';
import { report, warn } from './report.js';
import { type Interpreter, type Outcome, runChain } from './run.js';
import { parseScript, type ScriptNode } from './script.js';
import { ChainState } from './state.js';
import { type Bindings, substitute } from './substitute.js';
import { POSITIONAL_PREFIXES, pushVariables } from './variable-stack.js';

/** The most positional parameters -S and -s may ask for (a script names a handful). */
const MAX_POSITIONALS = 1_000_000;

export const EXECLINEB_USAGE = 'execlineb [ -q | -w | -W ] [ -p | -P | -S nmin | -s nmin ] [ -e ] { -c script | scriptfile } [ args... ]';

type Positional = { readonly mode: 'push' | 'none' } | { readonly mode: 'substitute'; readonly min: number; readonly shift: boolean };

interface Invocation {
  readonly script: { readonly text: string } | { readonly file: string };
  readonly positional: Positional;
  /** -q, -w, -W: EXECLINE_STRICT for the script and what it runs (0 takes it out); undefined leaves it as it came. */
  readonly strictness: number | undefined;
  readonly args: readonly string[];
}

const STRICTNESS_OPTIONS: ReadonlyMap<string, number> = new Map([['q', 0], ['w', 1], ['W', 2]]);

function parseInvocation(argv: readonly string[]): Invocation {
  let positional: Positional = { mode: 'push' };
  let inline: string | undefined;
  let strictness: number | undefined;
  let index = 0;
  while (index < argv.length) {
    const word = argv[index] ?? '';
    if (!word.startsWith('-') || word === '-') break;
    index++;
    if (word === '--') break;
    for (let at = 1; at < word.length; at++) {
      const letter = word[at] ?? '';
      if (letter === 'e') continue;
      if (STRICTNESS_OPTIONS.has(letter)) strictness = STRICTNESS_OPTIONS.get(letter);
      else if (letter === 'p') positional = { mode: 'push' };
      else if (letter === 'P') positional = { mode: 'none' };
      else if (letter === 'S' || letter === 's' || letter === 'c') {
        const attached = word.slice(at + 1);
        const value = attached !== '' ? attached : argv[index++];
        if (value === undefined) throw new ExeclineError(`option -${letter} needs a value; usage: ${EXECLINEB_USAGE}`);
        if (letter === 'c') inline = value;
        else if (!/^\d+$/.test(value)) throw new ExeclineError(`-${letter} needs a number, not ${JSON.stringify(value)}`);
        // Each of the nmin parameters is made a variable: past this many, memory would run out first.
        else if (Number(value) > MAX_POSITIONALS) throw new ExeclineError(`-${letter} ${value}: at most ${MAX_POSITIONALS} positional parameters; usage: ${EXECLINEB_USAGE}`);
        else positional = { mode: 'substitute', min: Number(value), shift: letter === 's' };
        break;
      } else throw new ExeclineError(`unknown option -${letter}; usage: ${EXECLINEB_USAGE}`);
    }
  }
  if (inline !== undefined) return { script: { text: inline }, positional, strictness, args: argv.slice(index) };
  const file = argv[index];
  if (file === undefined) throw new ExeclineError(`no script given; usage: ${EXECLINEB_USAGE}`);
  return { script: { file }, positional, strictness, args: argv.slice(index + 1) };
}

function positionalBindings(name: string, args: readonly string[], min: number, shift: boolean): Bindings {
  const bindings = new Map<string, string | readonly string[]>([['0', name], ['#', String(args.length)]]);
  for (let number = 1; number <= Math.max(min, args.length); number++) bindings.set(String(number), args[number - 1] ?? '');
  bindings.set('@', shift ? args.slice(min) : args);
  return bindings;
}

/**
 * execlineb: reads a script, sets its positional parameters and runs it, replacing this
 * process with the script's program. Returns an exit code when the script ends without
 * one (exit, a failed if) or fails, or the one trap ends with once its program has.
 */
export function execlineb(argv: readonly string[], self: readonly string[]): Outcome {
  let invocation: Invocation;
  let nodes: ScriptNode[];
  try {
    invocation = parseInvocation(argv);
    const { script } = invocation;
    const text = 'text' in script ? script.text : readScript(script.file);
    nodes = parseScript(text, 'text' in script ? '(-c script)' : script.file);
  } catch (error) {
    if (error instanceof StewardError) {
      report('execlineb', `${error.path ?? ''}${error.line === undefined ? '' : `:${error.line}`}: ${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`);
      return 100;
    }
    if (error instanceof ExeclineError) {
      report('execlineb', error.message);
      return error.exitCode;
    }
    throw error;
  }
  const inherited = inheritedDescriptors();
  const state = ChainState.fromProcess(inherited);
  const name = 'file' in invocation.script ? invocation.script.file : 'execlineb';
  const { positional, strictness, args } = invocation;
  // As execline's: what the script runs reads it too (shift, runblock, elgetpositionals, a nested execlineb).
  if (strictness === 0) state.env.delete('EXECLINE_STRICT');
  else if (strictness !== undefined) state.env.set('EXECLINE_STRICT', String(strictness));
  if (positional.mode === 'substitute') {
    // Fewer than asked for: said (unless -q; -W stops there), and the missing ones are empty, as execline's.
    if (args.length < positional.min && strictness !== 0) {
      const message = `too few arguments: expecting at least ${positional.min} but got ${args.length}`;
      if (strictness === 2) {
        report('execlineb', message);
        return 100;
      }
      warn('execlineb', message);
    }
    nodes = substitute(nodes, positionalBindings(name, args, positional.min, positional.shift));
  }
  if (positional.mode === 'push') {
    // The caller's own, if it was an execline script too, are kept under NAME:1, as execline's.
    pushVariables(state.env, POSITIONAL_PREFIXES);
    state.env.set('#', String(args.length));
    state.env.set('0', name);
    args.forEach((arg, position) => state.env.set(String(position + 1), arg));
  }
  const interpreter: Interpreter = { self, inherited, ...('file' in invocation.script ? { script: invocation.script.file } : {}) };
  return runChain(nodes, state, { kind: 'replace' }, interpreter);
}

function readScript(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExeclineError(`unable to read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
  }
}

/** Runs one execline command, called as a program with `args`, then the rest of its chain. */
export function execlineProgram(name: string, args: readonly string[], self: readonly string[]): Outcome {
  const interpreter: Interpreter = { self, inherited: inheritedDescriptors(), name };
  try {
    // The arguments as words: a command that takes a block reads it from them where it stands,
    // as execline's programs do, so a word that starts with a space elsewhere stays a word.
    return runChain([name, ...args], ChainState.fromProcess(interpreter.inherited), { kind: 'replace' }, interpreter);
  } catch (error) {
    if (error instanceof ExeclineError) {
      report(name, error.message);
      return error.exitCode;
    }
    throw error;
  }
}
