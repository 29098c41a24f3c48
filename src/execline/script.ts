import { StewardError, type StewardErrorCode } from '../errors.js';

/**
 * An execlineb script as a tree: words, and { blocks } of words and blocks. The
 * commands that read blocks work on this tree rather than on execline's argv encoding;
 * `encodeArgv` gives that encoding to programs outside the interpreter.
 */
export type ScriptNode = string | ScriptBlock;
export interface ScriptBlock {
  readonly block: readonly ScriptNode[];
  /** 1-based line of the opening brace, for messages. */
  readonly line: number;
}

const C_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', '"': '"', '\\': '\\' };

export interface ScriptWord {
  readonly text: string;
  /** A quoted brace is a plain word, not a block delimiter. */
  readonly quoted: boolean;
  readonly line: number;
}

function syntaxError(message: string, path: string, line: number, hint?: string, code: StewardErrorCode = 'ERR_SCRIPT'): StewardError {
  return new StewardError(code, message, { path, line, ...(hint === undefined ? {} : { hint }) });
}

/**
 * Reads an escape inside double quotes at `text[index]` (after the backslash), as
 * execlineb does: C's letters, \0 octal, another digit decimal, a newline joins lines,
 * and any other character stands for itself.
 */
function quotedEscape(text: string, index: number): { value: string; length: number } {
  const char = text[index] ?? '';
  if (char === '\n') return { value: '', length: 1 };
  if (char in C_ESCAPES) return { value: C_ESCAPES[char] ?? char, length: 1 };
  const octal = /^0[0-7]{0,3}/.exec(text.slice(index, index + 4));
  if (octal !== null) return { value: String.fromCharCode(parseInt(octal[0], 8) & 0xff), length: octal[0].length };
  const decimal = /^[1-9][0-9]{0,2}/.exec(text.slice(index, index + 3));
  if (decimal !== null && Number(decimal[0]) < 256) return { value: String.fromCharCode(Number(decimal[0])), length: decimal[0].length };
  return { value: char, length: 1 };
}

/** The words of a script, each with whether any part was quoted (a quoted brace is no block). */
export function lexScript(text: string, path: string, code: StewardErrorCode = 'ERR_SCRIPT'): ScriptWord[] {
  const words: ScriptWord[] = [];
  let index = 0;
  let line = 1;
  const isSpace = (char: string | undefined): boolean => char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\v' || char === '\f';
  while (index < text.length) {
    const char = text[index];
    if (char === '\n') {
      line++;
      index++;
    } else if (isSpace(char)) {
      index++;
    } else if (char === '#') {
      while (index < text.length && text[index] !== '\n') index++;
    } else if (char === '\\' && (text[index + 1] === '\n' || index + 1 >= text.length)) {
      // A line continuation between words, or a last backslash: nothing.
      if (text[index + 1] === '\n') line++;
      index += 2;
    } else {
      const start = line;
      let value = '';
      let quoted = false;
      while (index < text.length && !isSpace(text[index])) {
        const current = text[index] ?? '';
        if (current === '\\') {
          // Outside quotes a backslash makes the next character plain (a newline: joins lines).
          const next = text[index + 1];
          if (next === '\n') line++;
          else if (next !== undefined) {
            value += next;
            quoted = true;
          }
          index += 2;
          continue;
        }
        if (current !== '"') {
          value += current;
          index++;
          continue;
        }
        quoted = true;
        const opened = line;
        index++;
        for (;;) {
          if (index >= text.length) throw syntaxError('a double quote is not closed', path, opened, 'Add the closing "', code);
          const next = text[index] ?? '';
          if (next === '"') break;
          if (next === '\n') line++;
          if (next === '\\') {
            if (text[index + 1] === '\n') line++;
            const escape = quotedEscape(text, index + 1);
            value += escape.value;
            index += 1 + escape.length;
            continue;
          }
          value += next;
          index++;
        }
        index++;
      }
      words.push({ text: value, quoted, line: start });
    }
  }
  return words;
}

/** Parses a script: the whole file (a #! line is a comment) or the text of `execlineb -c`. */
export function parseScript(text: string, path: string): ScriptNode[] {
  const words = lexScript(text, path);
  let position = 0;
  const parse = (opened: number | undefined): ScriptNode[] => {
    const nodes: ScriptNode[] = [];
    while (position < words.length) {
      const word = words[position++];
      if (word === undefined) break;
      if (!word.quoted && word.text === '}') {
        if (opened !== undefined) return nodes;
        throw syntaxError('a closing } has no opening {', path, word.line);
      }
      if (!word.quoted && word.text === '{') nodes.push({ block: parse(word.line), line: word.line });
      else nodes.push(word.text);
    }
    if (opened !== undefined) throw syntaxError('a { block } is not closed', path, opened, 'Add a } on its own, separated by white space');
    return nodes;
  };
  return parse(undefined);
}

/** execline's argv encoding of blocks: each inner word gets a leading space, and an empty word ends the block. */
export function encodeArgv(nodes: readonly ScriptNode[]): string[] {
  return nodes.flatMap((node) => (typeof node === 'string' ? [node] : [...encodeArgv(node.block).map((word) => ` ${word}`), '']));
}

function quote(word: string): string {
  return `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Script text that parses back to the same nodes, for running a block in a new interpreter. */
export function serializeScript(nodes: readonly ScriptNode[]): string {
  return nodes.map((node) => (typeof node === 'string' ? quote(node) : `{ ${serializeScript(node.block)} }`)).join(' ');
}
