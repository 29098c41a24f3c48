import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { parseEnvfile } from '../../src/execline/commands/input.js';
import { lexScript } from '../../src/execline/script.js';
import { unknownOptionUses, unsupportedUses } from '../../src/execline/unsupported.js';
import { repoRoot } from '../helpers/pid1.js';

/** execline's loops, input readers, positional commands and lookups, against skarnet's. */
const TOOL = join(repoRoot, 'bin', 's6-tool');
const REAL_EXECLINEB = '/usr/bin/execlineb';
const BASE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const work = mkdtempSync(join(tmpdir(), 'steward-execline-commands-'));
after(() => rmSync(work, { recursive: true, force: true }));

mkdirSync(join(work, 'conf.d'));
for (const name of ['a.conf', 'b.conf', 'c.txt']) writeFileSync(join(work, 'conf.d', name), '');
mkdirSync(join(work, 'conf.d', 'sub.d'));
writeFileSync(join(work, 'app.env'), '# settings\nA=1\n  B = two words  \nC=\n\nD="  q\\tx "\nE=a\\\nb\n');
writeFileSync(join(work, 'bad.env'), 'A=1\nno equals here\n');
// A value that starts on a joined line keeps that line's leading whitespace; quotes anywhere in a value.
writeFileSync(join(work, 'joined.env'), 'B = \\\n   lead\nI=a"b"c\nJ = x " y " z  \nK=\\\n  \n');
writeFileSync(join(work, 'backslash.env'), 'F= \\t\n');
writeFileSync(join(work, 'counter'), '0');

interface Outcome {
  readonly status: number | null;
  readonly output: string;
}

/** Arguments for the scripts that read positional parameters from the environment (no -P). */
const positionals = (flags: readonly string[]): string[] => (flags.includes('-P') ? [] : ['a', 'b c', 'd']);

function ours(script: string, input: string, flags: readonly string[], args: readonly string[] = positionals(flags)): Outcome {
  const result = spawnSync(process.execPath, [TOOL, 'execlineb', ...flags, '-c', script, ...args], { input, encoding: 'utf8', cwd: work, env: { PATH: BASE_PATH }, timeout: 20_000 });
  return { status: result.status, output: result.stdout };
}

function skarnets(script: string, input: string, flags: readonly string[], args: readonly string[] = positionals(flags)): Outcome {
  const result = spawnSync(REAL_EXECLINEB, [...flags, '-c', script, ...args], { input, encoding: 'utf8', cwd: work, env: { PATH: `/usr/lib/execline/bin:${BASE_PATH}` }, timeout: 20_000 });
  return { status: result.status, output: result.stdout };
}

const COUNT_TO_3 = 'sh -c "c=$(cat counter); c=$((c+1)); echo $c > counter; echo run $c; [ $c -ge 3 ] && exit 5; exit 0"';

const CASES: readonly { readonly script: string; readonly input?: string; readonly flags?: readonly string[]; readonly args?: readonly string[] }[] = [
  { script: `foreground { redirfd -w 1 counter echo 0 } loopwhilex ${COUNT_TO_3}` },
  { script: `foreground { redirfd -w 1 counter echo 0 } loopwhilex -x 5 ${COUNT_TO_3}` },
  { script: `foreground { redirfd -w 1 counter echo 0 } loopwhilex -n -o 5 ${COUNT_TO_3}` },
  { script: `foreground { redirfd -w 1 counter echo 0 } loopwhilex -o 0,4 ${COUNT_TO_3}` },
  { script: 'loopwhilex sh -c "kill -9 $$"' },
  { script: 'forstdin X importas X X echo =$X', input: 'a b\nc\n\n' },
  { script: 'forstdin -E X echo =$X', input: 'a\nb' },
  { script: 'forstdin -C -E X echo =$X', input: 'a\n\n\nb\n' },
  { script: 'forstdin -d " " -E X echo =$X', input: 'a b c\n' },
  { script: 'forstdin -E X echo =$X', input: '' },
  { script: 'forstdin -x 3 -E X sh -c "echo $X; exit 3"', input: 'one\ntwo\n' },
  { script: 'pipeline { printf "p\\nq\\n" } forstdin -E X echo piped $X' },
  { script: 'forbacktickx -E X { printf "1 2\\n3" } echo item $X' },
  { script: 'forbacktickx -E X { sh -c "printf \\"1\\\\n\\"; exit 3" } echo item $X' },
  { script: 'withstdinas V importas V V echo =$V', input: 'x y\n\n' },
  { script: 'withstdinas -N V sh -c "printf %s \\"$V\\""', input: 'x y\n' },
  { script: 'withstdinas -E V echo =$V', input: 'x y\n' },
  { script: 'redirfd -r 0 app.env withstdinas -E V echo $V' },
  { script: 'envfile app.env sh -c "echo \\"[$A] [$B] [$C] [$D] [$E]\\""' },
  { script: 'envfile bad.env true' },
  { script: 'envfile joined.env sh -c "echo \\"[$B] [$I] [$J] [$K]\\""' },
  { script: 'envfile backslash.env true' },
  { script: 'envfile no-such.env true' },
  { script: 'homeof root' },
  { script: 'homeof no-such-user' },
  { script: 'tryexec { no-such-program } echo fallback' },
  { script: 'tryexec { echo first } echo fallback' },
  // Given as a path: missing, or a file that is not executable (exec fails, the rest runs).
  { script: 'tryexec { /nonexistent/tool } echo fallback' },
  { script: 'tryexec { ./app.env } echo fallback' },
  { script: 'tryexec { /bin/echo by-path } echo fallback' },
  { script: 'elglob -s F conf.d/*.conf echo $F' },
  // Written as the pattern wrote them, as glob(3) gives them.
  { script: 'cd conf.d/sub.d elglob -s F ../*.conf echo $F' },
  { script: 'elglob -s F ./conf.d/*.conf echo $F' },
  { script: 'elglob -s F conf.d//a* echo $F' },
  { script: 'elglob -s -0 F conf.d/*/ echo [ $F ]' },
  { script: 'elglob -0 F conf.d/a.conf echo [ $F ]' },
  { script: 'elglob -0 F conf.d/none.conf echo [ $F ]' },
  { script: 'elglob -s -0 F conf.d/[[:alpha:]].conf echo [ $F ]' },
  // The chain's umask, for redirfd's own files too.
  { script: 'foreground { rm -f secret } umask 077 foreground { redirfd -w 1 secret echo x } stat -c %a secret' },
  { script: 'foreground { rm -f open } umask 0 foreground { redirfd -w 1 open echo x } stat -c %a open' },
  { script: 'cd conf.d elglob -s F *.txt echo $F' },
  { script: 'forbacktickx -E X { sh -c "exit 3" } echo item $X' },
  { script: 'elglob F /no-such-dir/* echo [ $F ]' },
  { script: 'elglob -0 F /no-such-dir/* echo [ $F ]' },
  { script: 'shift importas N "#" importas A 1 echo $N $A', flags: [] },
  { script: 'shift -n 2 importas N "#" importas A 1 echo $N $A', flags: [] },
  { script: 'elgetpositionals echo $# $1 $@', flags: [] },
  { script: 'dollarat', flags: [] },
  { script: 'dollarat -n -d ,', flags: [] },
  { script: 'multidefine "a b c" { X Y Z } echo $Z $Y $X' },
  // Every substitution execline lists for multisubstitute, at once.
  { script: 'multisubstitute { define A x elglob -s F conf.d/*.conf } echo $A $F' },
  { script: 'multisubstitute { multidefine "a b" { X Y } define Z z } echo $X $Y $Z' },
  { script: 'multisubstitute { elgetpositionals importas -D none H NO_SUCH_VAR } echo $# $1 $H', flags: [] },
  { script: 'multisubstitute { foreground { echo no } } echo after' },
  { script: 'multidefine "a b" { X Y Z } echo [${X}] [${Y}] [${Z}] end' },
  { script: 'multidefine -0 "a b" { X Y Z } echo [${X}] [${Y}] [${Z}] end' },
  { script: 'multidefine -r "a b c d" { X Y } echo [${X}] [${Y}] end' },
  { script: 'multidefine -d : "a::b" { X Y Z } echo [${X}] [${Y}] [${Z}] end' },
  { script: 'multidefine -C -d : "a::b" { X Y Z } echo [${X}] [${Y}] [${Z}] end' },
  { script: 'multidefine "a b c" { X "" Z } echo [${X}] [${Z}] end' },
  { script: 'multidefine " a  b " { X Y Z W } echo [${X}] [${Y}] [${Z}] [${W}] end' },
  { script: 'multidefine "a b" { } echo x' },
  { script: 'multidefine "a b" { X X } echo x' },
  { script: 'case -- abc { "a.*" { echo re } } echo default' },
  { script: 'case abc { "b" { echo no } "a(b)(c)" { echo yes } } echo default' },
  { script: 'case abc { "b|abc" { echo anchored as text } } echo default' },
  // Bytes, not characters: é is two of them.
  { script: 'case é { "." { echo one } ".." { echo two } } echo default' },
  { script: 'case -s é { "?" { echo one } "??" { echo two } } echo default' },
  { script: 'case -N aéb { "a(.*)b" { importas O 1 echo $O } }' },
  { script: 'case -N abc { "a(b)(c)" { importas N "#" importas Z 0 importas O 1 importas T 2 echo $N $Z $O $T } }' },
  { script: 'case -n abc { "a(b)(c)" { importas -D unset N "#" echo $N } }' },
  { script: 'case -s abc { "a*" { echo glob } } echo default' },
  { script: 'case -s a/b { "a*" { echo glob } } echo default' },
  { script: 'case -s -N a/b { "a*" { echo glob } } echo default' },
  { script: 'case -s abc { "[!x]?c" { echo bracket } } echo default' },
  { script: 'case -i ABC { "abc" { echo icase } } echo default' },
  { script: 'case -e "a+" { "a+" { echo basic } } echo default' },
  { script: 'case -e aab { "a\\{2\\}b" { echo interval } } echo default' },
  { script: 'case xyz { "a" { echo no } }' },
  { script: 'case xyz { "a" { echo no } } echo def' },
  { script: 'case xyz { "(" { echo no } } echo def' },
  { script: 'case xyz { "a" } echo def' },
  { script: 'getpid P importas P P sh -c "test $P -gt 0 && echo ok"' },
  // The pid of the process that runs the rest of the chain: in a block, the block's program's.
  { script: 'getpid P importas P P sh -c "test $P = $$ && echo main"' },
  { script: 'foreground { getpid P importas P P sh -c "test $P = $$ && echo block" } echo after' },
  { script: 'background { getpid P importas P P sh -c "test $P = $$ && echo background" } foreground { sleep 0.5 } echo after' },
  { script: 'if { getpid P importas P P sh -c "test $P = $$" } echo same in if' },
  // The options execline 2.9.3 has for them: -E substitutes and leaves nothing in the environment, -e (the default) exports.
  { script: 'getcwd -E cwd sh -c "echo ${cwd} [$cwd]"' },
  { script: 'getcwd -e cwd importas cwd cwd echo ${cwd}' },
  { script: 'getcwd -E -e cwd echo ${cwd}' },
  { script: 'getpid -E P sh -c "test ${P} = $$ && echo [$P]"' },
  { script: 'getpid -P P importas P P sh -c "test $P = $PPID && echo parent"' },
  { script: 'foreground { getpid -P -E P sh -c "test ${P} = $PPID && echo parent in a block" } echo after' },
  { script: 'backtick -e X { echo hi } importas X X echo X=${X}' },
  { script: 'backtick -E -e X { echo hi } sh -c "echo [$X]"' },
  { script: 'tryexec -n { echo fallback } no-such-program' },
  { script: 'tryexec -n { echo fallback } echo first' },
  { script: 'tryexec -n { echo fallback }' },
  { script: 'elgetpositionals -P 4 echo [${1}] [${3}] [${4}] [${5}] ${#}', flags: [] },
  { script: 'elglob -m -s F conf.d/* echo $F' },
  { script: 'forx -E -e X { a } importas X X echo $X' },
  // elgetopt: the script's options as ELGETOPT_ variables, the operands as its positional parameters.
  ...[['-a', '-b', 'val', '-c', 'x', 'y'], ['-ac', '-bval'], ['--', '-a'], ['x', '-a'], ['-', '-a'], ['-q', 'x'], ['-b'], []].map((args) => ({
    script: 'elgetopt "ab:c" importas -D - A ELGETOPT_a importas -D - B ELGETOPT_b importas -D - C ELGETOPT_c importas N "#" importas -D - O1 1 importas -D - O2 2 echo $A $B $C $N $O1 $O2',
    flags: [],
    args,
  })),
  { script: 'elgetopt -D yes a importas A ELGETOPT_a echo $A', flags: [], args: ['-a'] },
  { script: 'export ELGETOPT_a old elgetopt a importas A ELGETOPT_a importas O ELGETOPT_a:1 foreground { echo $A $O } emptyenv -o importas X ELGETOPT_a echo $X', flags: [], args: ['-a'] },
  { script: 'elgetopt a', flags: [], args: ['-a'] },
  // runblock: a block given to the script, its words quoted with a space and ended by an empty word.
  { script: 'runblock 2 echo', flags: [], args: [' a', '', ' b', ' c', '', 'd'] },
  { script: 'runblock -r 1 echo', flags: [], args: [' a', '', 'd', 'e'] },
  { script: 'runblock -r 1 echo', flags: [], args: [' a', ''] },
  { script: 'runblock -n 1 1 echo', flags: [], args: ['skip', ' a', ''] },
  { script: 'runblock 1', flags: [], args: [' foreground', '  echo', '  in', ' ', ' echo', ' after', ''] },
  { script: 'runblock 1 importas -D unset X 1 echo $X', flags: [], args: [' echo', ''] },
  { script: 'runblock -P 1 importas -D unset X 1 echo $X', flags: [], args: [' echo', ''] },
  { script: 'runblock 3 echo', flags: [], args: [' a', ''] },
  { script: 'runblock 0 echo', flags: [], args: [' a', ''] },
  { script: 'export EXECLINE_STRICT 2 runblock 1 echo', flags: [], args: ['a', ''] },
  // The block's words as they are, less one space: a word that still starts with one is a word.
  { script: 'runblock 1 printf [%s]', flags: [], args: ['  x', ' y', ''] },
  { script: 'foreground { runblock 1 } runblock -r 1', flags: [], args: [' printf', ' [%s]', ' ', '  lead', '', 'printf', '|%s', ' done'] },
  { script: 'runblock 1', flags: [], args: [' case', ' -s', ' b', '  a', '   echo', '   A', '  ', '  b', '   echo', '   B', '  ', ' ', ' echo', ' none', ''] },
  { script: 'shift -b 1 importas N "#" importas A 1 echo $N $A', flags: [], args: [' a', ' b', '', 'c'] },
  { script: 'shift -n 1 -b 1 importas N "#" importas A 1 echo $N $A', flags: [], args: ['x', ' a', '', 'c', 'd'] },
  { script: 'shift -b 2 echo', flags: [], args: [' a', ''] },
  { script: 'shift -n 5 importas N "#" echo $N', flags: [] },
  // execlineb -w and -W set EXECLINE_STRICT for the script and what it runs, -q takes it out.
  { script: 'importas -D unset S EXECLINE_STRICT echo $S', flags: ['-W'] },
  { script: 'importas -D unset S EXECLINE_STRICT echo $S', flags: ['-w', '-P'] },
  { script: 'shift -n 5 echo went on', flags: ['-W'] },
  { script: 'echo $1 $2 $3 $4', flags: ['-W', '-S4'] },
  { script: 'echo $1 $2 $3 $4', flags: ['-q', '-S4'] },
  { script: 'export EXECLINE_STRICT 2 elgetpositionals -P 4 echo $1', flags: [] },
  { script: 'export EXECLINE_STRICT 1 elgetpositionals -P 4 echo $1', flags: [] },
  { script: 'export ! 1 export FD3 x export EXECLINE_STRICT 1 export ELGETOPT_a 1 export ELGETOPT_a:1 2 emptyenv -c pipeline { pipeline { env } grep -v ^PATH= } sort', flags: [] },
  { script: 'export ELGETOPT_a 1 export ELGETOPT_a:1 2 export 1:1 z emptyenv -P pipeline { pipeline { env } grep -v ^PATH= } sort', flags: [] },
  // A block a script was given, put in its command line by $@: read as execline's commands read it.
  { script: 'elgetpositionals backtick -E X $@ echo [$X]', flags: [], args: [' echo', ' hi', ''] },
  { script: 'elgetpositionals foreground $@ echo after', flags: [], args: [' if', '  false', ' ', ' echo', ' no', ''] },
  { script: 'elgetpositionals foreground $@ echo after', flags: [], args: [' echo', ' in'] },
  { script: 'elgetpositionals case -s b $@ echo none', flags: [], args: [' a', '  echo', '  A', ' ', ' b', '  printf', '  [%s]', '   B', ' ', ''] },
  { script: 'elgetpositionals trap $@ sh -c "kill -TERM $PPID; sleep 0.3; exit 4"', flags: [], args: [' SIGTERM', '  echo', '  caught', ' ', ''] },
  // piperw, fdreserve, fdblock: descriptors for the program.
  { script: 'piperw 5 6 sh -c "echo through >&6; exec 6>&-; cat <&5"' },
  { script: 'piperw 5 5 true' },
  { script: 'fdreserve 3 importas A FD0 importas B FD1 importas C FD2 echo $A $B $C' },
  { script: 'fdclose 3 redirfd -r 4 /dev/null fdreserve 2 importas A FD0 importas B FD1 echo $A $B' },
  { script: 'fdreserve 1000000000 true' },
  { script: 'redirfd -w -n 5 /dev/null fdblock 5 sh -c "grep flags /proc/self/fdinfo/5"' },
  { script: 'redirfd -w 5 /dev/null fdblock -n 5 sh -c "grep flags /proc/self/fdinfo/5"' },
  { script: 'fdblock 9 true' },
];

describe("execline's other commands: the same results as skarnet's", { skip: !existsSync(REAL_EXECLINEB) && "needs Debian's execline package" }, () => {
  for (const { script, input = '', flags = ['-P'], args } of CASES) {
    it(`${flags.join(' ')} ${script}${args === undefined ? '' : ` ${JSON.stringify(args)}`}${input === '' ? '' : ` < ${JSON.stringify(input)}`}`, () => {
      writeFileSync(join(work, 'counter'), '0');
      const real = skarnets(script, input, flags, args);
      writeFileSync(join(work, 'counter'), '0');
      const mine = ours(script, input, flags, args);
      assert.deepEqual(mine, real);
    });
  }
});

describe('envfile reads its format', () => {
  it('key = value lines, comments, continuations, quoted values with C escapes; a line without = is an error naming the file and line', () => {
    assert.deepEqual(Object.fromEntries(parseEnvfile('# c\nA=1\n  B = two words  \nC=\n\nD="  q\\tx "\nE=a\\\nb\n', 'f')), { A: '1', B: 'two words', C: '', D: '  q\tx ', E: 'ab' });
    assert.throws(() => parseEnvfile('A=1\nbad\n', '/etc/app.env'), /in \/etc\/app.env: syntax error line 2/);
  });
});

describe('the new commands as /command programs', () => {
  it('loopwhilex and envfile run by their names, as s6-overlay links them', () => {
    const dir = mkdtempSync(join(work, 'links-'));
    for (const name of ['loopwhilex', 'envfile']) symlinkSync(TOOL, join(dir, name));
    const result = spawnSync(join(dir, 'envfile'), ['app.env', join(dir, 'loopwhilex'), '-x', '0', 'sh', '-c', 'echo $B; exit 0'], { encoding: 'utf8', cwd: work, env: { PATH: BASE_PATH } });
    assert.equal(result.stdout, 'two words\n', result.stderr);
    assert.equal(result.status, 0);
  });
});

describe('steward check: the commands Steward still lacks, where a command stands', () => {
  it('at the start, in and after blocks and after chain-loaders; not as an argument', () => {
    const text = '#!/command/execlineb -P\nposix-cd /x { echo x }\nimportas -D x V V\nforqueue 2 { echo posix-umask }\nforeground { posix-umask 1 }\nelgetopt -D 1 a: fdreserve 1 export-array\necho forqueue\n';
    const uses = unsupportedUses(lexScript(text, 'run'), '/nonexistent');
    assert.deepEqual(uses, [{ command: 'posix-cd', line: 2 }, { command: 'forqueue', line: 4 }, { command: 'posix-umask', line: 5 }, { command: 'export-array', line: 6 }]);
  });
});

describe('steward check: options the interpreter does not take', () => {
  it('are found where a command stands, with the line; values of options and arguments are not options', () => {
    const text = '#!/command/execlineb -P\ngetcwd -E cwd\nimportas -D -x V V\nbacktick -q X { echo -q }\nforeground { if -t -y { true } }\necho -y\n';
    assert.deepEqual(unknownOptionUses(lexScript(text, 'run')), [{ command: 'backtick', option: '-q', line: 4 }, { command: 'if', option: '-y', line: 5 }]);
  });
});
