import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StewardError } from '../../src/errors.js';
import { encodeArgv, parseScript, serializeScript, type ScriptNode } from '../../src/execline/script.js';
import { substitute } from '../../src/execline/substitute.js';

const FILE = '/etc/services.d/web/run';

/** The tree without line numbers, for comparisons. */
function shape(nodes: readonly ScriptNode[]): unknown[] {
  return nodes.map((node) => (typeof node === 'string' ? node : shape(node.block)));
}

function parsed(text: string): unknown[] {
  return shape(parseScript(text, FILE));
}

function syntaxError(text: string): StewardError {
  try {
    parseScript(text, FILE);
  } catch (error) {
    assert.ok(error instanceof StewardError);
    assert.equal(error.path, FILE);
    return error;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

describe('execlineb scripts: parsing', () => {
  it('reads a run script: the #! line and comments are skipped, words split on white space', () => {
    const text = '#!/command/execlineb -P\n# start the app\nwith-contenv\ns6-setuidgid abc # drop root\n/app/bin/server --port 8080\n';
    assert.deepEqual(parsed(text), ['with-contenv', 's6-setuidgid', 'abc', '/app/bin/server', '--port', '8080']);
  });

  it('reads nested blocks', () => {
    assert.deepEqual(parsed('if { foreground { echo a } echo b } echo c'), ['if', ['foreground', ['echo', 'a'], 'echo', 'b'], 'echo', 'c']);
    assert.deepEqual(parsed('foreground { } echo done'), ['foreground', [], 'echo', 'done']);
  });

  it('quotes: one word with spaces, C escapes, a quoted brace is a word, another escaped character is itself', () => {
    assert.deepEqual(parsed('echo "a  b" "" "{" x"y z"w "tab\\there" "q\\"q" "\\$HOME" "\\0101" "\\q" "\\\\$X"'), ['echo', 'a  b', '', '{', 'xy zw', 'tab\there', 'q"q', '$HOME', 'A', 'q', '\\$X']);
    // \0 octal, another digit decimal; x is no escape (as execlineb 2.9).
    assert.deepEqual(parsed('printf "\\0101\\x41\\65"'), ['printf', 'Ax41A']);
  });

  it('outside quotes a backslash makes the next character plain; before a newline it joins lines', () => {
    assert.deepEqual(parsed('echo one \\\n two a\\ b \\q \\\\$X \\{ end \\'), ['echo', 'one', 'two', 'a b', 'q', '\\$X', '{', 'end']);
  });

  it('an unclosed block is an error at the line of its {', () => {
    const error = syntaxError('#!/command/execlineb -P\nforeground {\n  echo a\n');
    assert.match(error.message, /block \} is not closed/);
    assert.equal(error.line, 2);
  });

  it('a stray } and an unclosed quote are errors at their lines', () => {
    assert.equal(syntaxError('echo a\n}\n').line, 2);
    assert.equal(syntaxError('echo a\necho "b\n\n').line, 2);
  });

  it('encodes blocks as execline does for external programs: leading spaces, an empty word at the end', () => {
    assert.deepEqual(encodeArgv(parseScript('prog { a { b } } c', FILE)), ['prog', ' a', '  b', ' ', '', 'c']);
  });

  it('serializes back to text that parses to the same tree', () => {
    const nodes = parseScript('if { eltest -n "a b" } foreground { echo "q\\"uote" back\\\\slash "\\$X" } echo ""', FILE);
    assert.deepEqual(shape(parseScript(serializeScript(nodes), FILE)), shape(nodes));
  });
});

describe('execlineb scripts: substitution', () => {
  const nodes = (text: string): ScriptNode[] => parseScript(text, FILE);

  it('replaces $NAME and ${NAME} of the bound names only, in blocks too', () => {
    const result = substitute(nodes('echo $USER ${USER}x $USERNAME $OTHER { echo $USER }'), new Map([['USER', 'abc']]));
    assert.deepEqual(shape(result), ['echo', 'abc', 'abcx', '$USERNAME', '$OTHER', ['echo', 'abc']]);
  });

  it('an odd number of backslashes keeps the reference, half of them are dropped', () => {
    const result = substitute(['\\$X', '\\\\$X', 'a\\\\\\$X', '\\${X}'], new Map([['X', 'v']]));
    assert.deepEqual(result, ['$X', '\\v', 'a\\$X', '${X}']);
  });

  it('an unset variable takes its word away; a list makes one word per value, with the text around it', () => {
    const bindings = new Map<string, string | readonly string[] | undefined>([['A', undefined], ['L', ['x', 'y']], ['E', []]]);
    const result = substitute(nodes('prog $A pre$A $L pre$L ${L}-${L} a$E end'), bindings);
    assert.deepEqual(shape(result), ['prog', 'x', 'y', 'prex', 'prey', 'x-x', 'x-y', 'y-x', 'y-y', 'end']);
  });

  it('an unbraced name runs to the next $, brace or backslash, or the end of the word', () => {
    const result = substitute(nodes('echo $X/c [$X] [$X $X$X $X} ${X}/c'), new Map([['X', 'v']]));
    assert.deepEqual(shape(result), ['echo', '$X/c', '[$X]', '[v', 'vv', 'v}', 'v/c']);
  });

  it('positional parameters: $1 is not $10', () => {
    const result = substitute(nodes('echo $1 $10 ${1}0 $#'), new Map([['1', 'one'], ['#', '1']]));
    assert.deepEqual(shape(result), ['echo', 'one', '$10', 'one0', '1']);
  });
});
