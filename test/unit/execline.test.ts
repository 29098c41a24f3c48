import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseExecline, tokenize } from '../../src/config/execline.js';
import type { ExeclineProgram } from '../../src/model/rc.js';
import { StewardError } from '../../src/errors.js';

const FILE = '/etc/s6-overlay/s6-rc.d/init-app/up';

function parse(text: string): ExeclineProgram | 'needs-interpreter' {
  return parseExecline(text, FILE);
}

function exec(...argv: string[]): ExeclineProgram {
  return { kind: 'exec', argv };
}

/** The StewardError parsing `text` throws, checked to name the file. */
function rejection(text: string): StewardError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof StewardError, String(error));
    assert.equal(error.code, 'ERR_CONFIG');
    assert.equal(error.path, FILE);
    return error;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

describe('execline subset: words', () => {
  it('splits on spaces, tabs and newlines', () => {
    assert.deepEqual(parse('/usr/bin/install -d\t-m 0755 \n  /run/app\n'), exec('/usr/bin/install', '-d', '-m', '0755', '/run/app'));
  });

  it('the usual s6-overlay up file: the absolute path of a script', () => {
    assert.deepEqual(parse('/etc/s6-overlay/s6-rc.d/init-app/run\n'), exec('/etc/s6-overlay/s6-rc.d/init-app/run'));
  });

  it('keeps $ and other shell characters as they are (no substitution)', () => {
    assert.deepEqual(parse('echo $HOME ; a|b > c'), exec('echo', '$HOME', ';', 'a|b', '>', 'c'));
  });

  it('counts lines, for error messages', () => {
    const tokens = tokenize('a\n\n  b "c\nd" e\n', FILE);
    assert.deepEqual(
      tokens.map((token) => [token.text, token.line]),
      [['a', 1], ['b', 3], ['c\nd', 3], ['e', 4]],
    );
  });
});

describe('execline subset: double quotes', () => {
  it('make one word of spaces and keep an empty word', () => {
    assert.deepEqual(parse('echo "hello  world" "" end'), exec('echo', 'hello  world', '', 'end'));
  });

  it('take backslash escapes: \\" \\\\ \\n \\t, and any other character as itself', () => {
    assert.deepEqual(parse('printf "a\\"b" "c\\\\d" "e\\nf" "g\\th" "\\x"'), exec('printf', 'a"b', 'c\\d', 'e\nf', 'g\th', 'x'));
  });

  it('join the plain and quoted parts of one word, as execlineb does', () => {
    assert.deepEqual(parse('app --config="/config/my app.conf" ab"c d"e "x"y'), exec('app', '--config=/config/my app.conf', 'abc de', 'xy'));
  });

  it('a quoted # is not a comment, a quoted keyword is a plain word', () => {
    assert.deepEqual(parse('echo "# not a comment" "importas" "foreground"'), exec('echo', '# not a comment', 'importas', 'foreground'));
    assert.deepEqual(parse('"foreground" y'), exec('foreground', 'y'));
  });

  it('an unclosed quote is an error at the line it opens', () => {
    const error = rejection('echo ok\necho "never closed\n\n');
    assert.match(error.message, /double quote is not closed/);
    assert.equal(error.line, 2);
  });
});

describe('execline subset: comments', () => {
  it('run from # to the end of the line', () => {
    assert.deepEqual(parse('# set up the app\n/usr/bin/app-setup --fast # trailing note\n# end\n'), exec('/usr/bin/app-setup', '--fast'));
  });

  it('a file of only comments and blank lines does nothing (noop)', () => {
    assert.deepEqual(parse("# This file doesn't do anything, it's just the end of the downstream image init process\n"), { kind: 'noop' });
    assert.deepEqual(parse('\n  \n# one\n\t# two\n'), { kind: 'noop' });
    assert.deepEqual(parse(''), { kind: 'noop' });
  });
});

describe('execline subset: blocks', () => {
  it('foreground { A } B runs A, then B', () => {
    assert.deepEqual(parse('foreground { mkdir -p /run/app } chown app /run/app'), {
      kind: 'foreground',
      block: exec('mkdir', '-p', '/run/app'),
      then: exec('chown', 'app', '/run/app'),
    });
  });

  it('background { A } B starts A and goes on with B', () => {
    assert.deepEqual(parse('background {\n  /usr/bin/warm-cache\n}\n/usr/bin/app-init\n'), {
      kind: 'background',
      block: exec('/usr/bin/warm-cache'),
      then: exec('/usr/bin/app-init'),
    });
  });

  it('if { A } B, and if -n { A } B', () => {
    assert.deepEqual(parse('if { test -e /config/app.conf } /usr/bin/app-migrate'), {
      kind: 'if',
      negate: false,
      block: exec('test', '-e', '/config/app.conf'),
      then: exec('/usr/bin/app-migrate'),
    });
    assert.deepEqual(parse('if -n { test -e /config/app.conf } cp /defaults/app.conf /config/'), {
      kind: 'if',
      negate: true,
      block: exec('test', '-e', '/config/app.conf'),
      then: exec('cp', '/defaults/app.conf', '/config/'),
    });
  });

  it('nest, and chain one after another', () => {
    const text = [
      '# prepare, then run the real script',
      'foreground {',
      '  if -n { test -d /config } mkdir /config',
      '}',
      'foreground { echo "[init-app] \\"ready\\"" }',
      '/etc/s6-overlay/s6-rc.d/init-app/run',
      '',
    ].join('\n');
    assert.deepEqual(parse(text), {
      kind: 'foreground',
      block: { kind: 'if', negate: true, block: exec('test', '-d', '/config'), then: exec('mkdir', '/config') },
      then: { kind: 'foreground', block: exec('echo', '[init-app] "ready"'), then: exec('/etc/s6-overlay/s6-rc.d/init-app/run') },
    });
  });

  it('an empty block, or nothing after it, is a noop there', () => {
    assert.deepEqual(parse('foreground { } echo done'), { kind: 'foreground', block: { kind: 'noop' }, then: exec('echo', 'done') });
    assert.deepEqual(parse('foreground { echo only }'), { kind: 'foreground', block: exec('echo', 'only'), then: { kind: 'noop' } });
  });

  it('an option a block command does not take is an error naming the command, the option and the file', () => {
    const error = rejection('# comment\nif -z { true } echo x\n');
    assert.match(error.message, /^if: unknown option -z/);
    assert.equal(error.line, 2);
    assert.match(error.hint ?? '', /if takes -n, -X, -t, -x/);
    assert.match(rejection('background -n { true } echo x').message, /^background: unknown option -n/);
    assert.match(rejection('foreground -d { true } echo x').message, /^foreground: unknown option -d/);
    assert.match(rejection('if -x { true } echo x').message, /^if: option -x needs a value/);
  });

  it('a block keyword not followed by { is an error at its line', () => {
    const error = rejection('# comment\nforeground echo hi\n');
    assert.match(error.message, /foreground must be followed by a \{ block \}/);
    assert.equal(error.line, 2);
    assert.match(rejection('if -n test -e /x').message, /if must be followed by a \{ block \}/);
  });

  it('an unclosed block is an error at the line of its {', () => {
    const error = rejection('# outer block never closed\nforeground {\n  if { true }\n  echo b\n');
    assert.match(error.message, /the \{ block \} of foreground is not closed/);
    assert.equal(error.line, 2);
  });

  it('a } without its { is an error at its line', () => {
    const error = rejection('echo a\n}\n');
    assert.match(error.message, /a closing \} has no opening \{/);
    assert.equal(error.line, 2);
  });

  it('a { after another command is left to the interpreter', () => {
    assert.equal(parse('echo start\nexeccmd { echo x }\n'), 'needs-interpreter');
  });
});

describe('execline subset: what it leaves to the interpreter', () => {
  const cases: [string, string][] = [
    ['importas', '# read the user\nimportas -D 911 PUID PUID\ns6-setuidgid $PUID /app/run\n'],
    ['backtick', 'backtick -n HOST { hostname }\necho $HOST\n'],
    ['multisubstitute', '\n\nmultisubstitute { importas A A }\necho $A\n'],
    ['define', 'define DIR /config\nmkdir $DIR\n'],
    ['ifelse', 'ifelse { test -e /x } { echo yes } echo no\n'],
    ['pipeline', 'pipeline { cat /x } grep y\n'],
    ['forx', 'forx X { a b } echo $X\n'],
    ['cd', 'cd /config /usr/bin/app-setup\n'],
    ['export', 'export HOME /config s6-setuidgid abc /app/init\n'],
    ['with-contenv', 'with-contenv /app/init\n'],
  ];
  for (const [construct, text] of cases) {
    it(`${construct}: run by execlineb`, () => {
      assert.equal(parse(text), 'needs-interpreter');
    });
  }

  it('inside a block too', () => {
    assert.equal(parse('foreground {\n  importas X X\n  echo $X\n}\necho done\n'), 'needs-interpreter');
  });

  const optionCases: string[] = [
    'if -t { test -e /run/optional-feature }\nforeground { echo optional feature on }\ntrue\n',
    'if -x 3 { false } true',
    'if -x3 { false } true',
    'if -X -n { false } true',
    'if -nt { false } true',
    'background -d { sleep 1 } true',
    'foreground {\n  if -t { test -d /config }\n  chown -R app /config\n}\ntrue\n',
  ];
  for (const text of optionCases) {
    it(`the options of the block commands the subset runs: ${JSON.stringify(text)}`, () => {
      assert.equal(parse(text), 'needs-interpreter');
    });
  }

  it('every command the interpreter runs itself', () => {
    for (const text of ['eltest -v HOME', 'getpid PID echo $PID', 's6-envuidgid app /app/init', 'fdmove -c 2 1 /app/init', 'redirfd -w 1 /run/log /app/init']) {
      assert.equal(parse(text), 'needs-interpreter', text);
    }
  });

  it('only in command position: as an argument it is a plain word', () => {
    assert.deepEqual(parse('echo importas backtick'), exec('echo', 'importas', 'backtick'));
  });
});

describe('execline subset: unsupported constructs', () => {
  const cases: [string, string, number][] = [
    ['forqueue', 'forqueue 2 app\n', 1],
    ['posix-cd', '\n\nposix-cd /x\necho done\n', 3],
    ['export-array', 'export-array A x app\n', 1],
  ];
  for (const [construct, text, line] of cases) {
    it(`${construct}: refused, naming the file, the line and the construct`, () => {
      const error = rejection(text);
      assert.equal(error.message, `the execline command ${construct} is not supported in up and down files`);
      assert.equal(error.line, line);
      assert.match(error.hint ?? '', /shell script/);
      assert.ok(error.describe().startsWith(`${FILE}:${line}: `), error.describe());
    });
  }

  it("is left to the image's own command when its execline is in PATH (Debian's, Alpine's)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-execline-path-'));
    writeFileSync(join(dir, 'forqueue'), '#!/bin/sh\n', { mode: 0o755 });
    const saved = process.env['PATH'];
    process.env['PATH'] = `${dir}:${saved ?? '/usr/bin:/bin'}`;
    try {
      assert.equal(parseExecline('forqueue 2 app\n', FILE), 'needs-interpreter');
    } finally {
      process.env['PATH'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inside a block too', () => {
    const error = rejection('foreground {\n  posix-cd /x\n}\necho done\n');
    assert.match(error.message, /posix-cd is not supported/);
    assert.equal(error.line, 2);
  });
});
