import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { posixExtendedRegex } from '../../src/execline/posix-regex.js';
import { repoRoot } from '../helpers/pid1.js';

/** Steward's eltest and s6-test, as /command links them, against skarnet's from Debian's execline. */
const TOOL = join(repoRoot, 'bin', 's6-tool');
const REAL_ELTEST = '/usr/lib/execline/bin/eltest';
const work = mkdtempSync(join(tmpdir(), 'steward-eltest-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ENV = { PATH: '/usr/bin:/bin', SET_EMPTY: '', SET_WORD: 'yes' };

function ours(args: readonly string[], name = 'eltest'): { code: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [TOOL, name, ...args], { encoding: 'utf8', env: ENV, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: result.status, stderr: result.stderr };
}

mkdirSync(join(work, 'dir'));
writeFileSync(join(work, 'file'), 'x');
writeFileSync(join(work, 'empty'), '');
writeFileSync(join(work, 'old'), '');
utimesSync(join(work, 'old'), 1_000_000, 1_000_000);
writeFileSync(join(work, 'script'), '#!/bin/sh\n', { mode: 0o755 });
writeFileSync(join(work, 'sticky'), '', { mode: 0o1644 });
symlinkSync('file', join(work, 'link'));
symlinkSync('nowhere', join(work, 'dangling'));

const CASES: readonly (readonly string[])[] = [
  [], ['word'], [''], ['-n'], ['-n', ''], ['-n', 'x'], ['-z', ''], ['-z', 'x'], ['-n', '-z'], ['a', 'b'],
  ['-v', 'SET_EMPTY'], ['-v', 'SET_WORD'], ['-v', 'UNSET'], ['-v'], ['!', '-v', 'UNSET'],
  ['abc', '=~', '^a.c$'], ['abc', '=~', 'B'], ['abc', '=~', ''], ['abc', '=~', 'a|z'], ['abc', '=~', '('], ['abc', '=~', '[[:digit:]]'],
  ['a1', '=~', '[[:alpha:]][[:digit:]]$'], ['a.b', '=~', 'a[.]b'], ['aXb', '=~', 'a[.]b'], ['a\\b', '=~', 'a[\\]b'], ['a+b', '=~', 'a\\+b'],
  ['ab', '=~', 'a{1,2}b'], ['abc', '=~', 'a\\>'], ['a b', '=~', '\\<b'], ['x]y', '=~', '[]]'], ['yes', '=~', '^(yes|true|1)$'], ['TRUE', '=~', '^(yes|true|1)$'],
  ['a', '=', 'a'], ['a', '!=', 'a'], ['a', '<', 'b'], ['b', '<=', 'a'], ['b', '>', 'a'], ['a', '>=', 'a'], ['=', '=', '='], ['\\=', '=', '='], ['\\=', '=', '\\='],
  ['3', '-ne', '0'], ['-2', '-lt', '-1'], ['007', '-eq', '7'], ['+12', '-eq', '12'], ['12abc', '-eq', '12'], [' 12', '-eq', '12'], ['', '-eq', '0'],
  ['2147483648', '-eq', '-2147483648'], ['99999999999', '-eq', '999999999'], ['-2147483649', '-eq', '2147483647'], ['1', '-gt', '2'], ['2', '-ge', '2'], ['2', '-le', '1'],
  ['a', '-o', 'b', '-a', ''], ['', '-o', 'b', '-a', ''], ['', '-a', 'b', '-o', 'c'], ['!', 'a', '=', 'b'], ['!', '!', ''], ['!'], ['a', '-a'], ['a', '-a', '-o'],
  ['(', 'a', ')'], ['(', '!', 'a', ')'], ['(', '(', 'a', ')', ')', '-a', 'b'], ['(', 'a'], ['a', ')'], ['(', ')'], ['\\-n'], ['-z', '\\'], ['\\'], ['--'],
  ['-d', 'dir'], ['-d', 'file'], ['-f', 'file'], ['-f', 'dir'], ['-e', 'nowhere'], ['-e', 'link'], ['-e', 'dangling'], ['-h', 'dangling'], ['-L', 'file'],
  ['-s', 'file'], ['-s', 'empty'], ['-x', 'script'], ['-x', 'file'], ['-r', 'file'], ['-w', 'file'], ['-k', 'sticky'], ['-k', 'file'], ['-u', 'file'], ['-g', 'file'],
  ['-p', 'file'], ['-S', 'file'], ['-b', '/dev/null'], ['-c', '/dev/null'], ['-O', 'file'], ['-G', 'file'],
  ['file', '-nt', 'old'], ['old', '-nt', 'file'], ['file', '-nt', 'nowhere'], ['nowhere', '-nt', 'file'], ['old', '-ot', 'file'], ['nowhere', '-ot', 'file'], ['file', '-ot', 'nowhere'],
  ['file', '-ef', 'link'], ['file', '-ef', 'old'], ['nowhere', '-ef', 'file'], ['file', '-ef', 'nowhere'],
  ['-t', 'x'], ['-t', '0'], ['x', '-t', '1'], ['-d', 'dir', '-a', '-f', 'file', '-a', '!', '-e', 'nowhere'],
];

describe('eltest: the same answers as skarnet\'s', { skip: !existsSync(REAL_ELTEST) && "needs Debian's execline package" }, () => {
  for (const args of CASES) {
    it(JSON.stringify(args), () => {
      const real = spawnSync(REAL_ELTEST, args, { encoding: 'utf8', env: ENV, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      const mine = ours(args);
      assert.equal(mine.code, real.status, `ours: ${mine.stderr} skarnet's: ${real.stderr}`);
      // The same complaint, bar the argument a parse error is found at.
      const gist = (text: string): string => text.replace(/^(eltest: fatal: [^:]*?)( at argument \d+)?(: .*)?\n$/, '$1');
      assert.equal(gist(mine.stderr), gist(real.stderr));
    });
  }
});

describe('eltest and s6-test in scripts', () => {
  function script(text: string, env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [TOOL, 'execlineb', '-Pc', text], { encoding: 'utf8', env: { ...ENV, ...env }, cwd: work });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('s6-test is the same program: -v and =~ included', () => {
    assert.equal(ours(['-v', 'SET_WORD'], 's6-test').code, 0);
    assert.equal(ours(['abc', '=~', '^a'], 's6-test').code, 0);
    assert.equal(ours(['-n'], 's6-test').code, 100);
  });

  it('sees the environment, directory and account the chain has set up by then', () => {
    const env = script('export USE_DNSMASQ 1 if -t { s6-test -v USE_DNSMASQ } echo started');
    assert.equal(env.stdout, 'started\n', env.stderr);
    assert.equal(script('if -t { eltest -v USE_DNSMASQ } echo started').stdout, '');
    assert.equal(script('cd dir if { eltest ! -e file } cd .. if { eltest -f file } echo relative').stdout, 'relative\n');
    assert.equal(script('importas -D no V V if { eltest $V =~ ^(yes|no)$ } echo matched').stdout, 'matched\n');
  });

  it('-t asks about the descriptor the chain gives the program, after its redirfd, fdmove and fdclose, as execline\'s', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a terminal' }, () => {
    const text = 'foreground { redirfd -w 1 /dev/null eltest -t 1 } importas A ? foreground { fdclose 0 eltest -t 0 } importas B ? foreground { fdmove -c 5 0 eltest -t 5 } importas C ? foreground { eltest -t 0 } importas D ? echo $A $B $C $D';
    const onTerminal = (argv: readonly string[], path: string): string => {
      const command = argv.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
      return spawnSync('/usr/bin/script', ['-qc', command, '/dev/null'], { encoding: 'utf8', env: { PATH: path }, cwd: work, timeout: 20_000 }).stdout.replaceAll('\r', '');
    };
    const mine = onTerminal([process.execPath, TOOL, 'execlineb', '-Pc', text], ENV.PATH);
    assert.equal(mine, '1 1 0 0\n');
    if (existsSync(REAL_ELTEST)) assert.equal(mine, onTerminal(['/usr/lib/execline/bin/execlineb', '-Pc', text], `/usr/lib/execline/bin:${ENV.PATH}`));
  });

  it('ends the chain with its exit code: 100 and a message for an expression it cannot read', () => {
    const result = script('eltest a b');
    assert.equal(result.code, 100);
    assert.match(result.stderr, /^eltest: fatal: parse error at argument 1/);
    assert.equal(script('eltest').code, 1);
  });

  it('POSIX classes, literal backslashes in brackets and GNU word anchors become JavaScript', () => {
    assert.ok(posixExtendedRegex('^[[:upper:]][[:lower:]]+$').test('Word'));
    assert.ok(posixExtendedRegex('[\\]').test('\\'));
    assert.ok(posixExtendedRegex('\\<go\\>').test('let go now'));
    assert.ok(!posixExtendedRegex('\\<go\\>').test('gone'));
    assert.ok(posixExtendedRegex('a{x').test('a{x'));
  });
});
