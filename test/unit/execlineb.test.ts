import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { EXECLINE_PROGRAMS } from '../../src/model/program-names.js';
import { BUILTIN_COMMAND_OPTIONS } from '../../src/execline/builtin-names.js';
import { BUILTIN_COMMANDS } from '../../src/execline/builtins.js';
import { encodeArgv } from '../../src/execline/script.js';
import { isRoot, repoRoot } from '../helpers/pid1.js';

/** Steward's execlineb, run as images run it: a script file with its options, or -c. */
const TOOL = join(repoRoot, 'bin', 's6-tool');
const work = mkdtempSync(join(tmpdir(), 'steward-execlineb-'));
after(() => rmSync(work, { recursive: true, force: true }));

let count = 0;
function scriptFile(text: string): string {
  const path = join(work, `script-${count++}`);
  writeFileSync(path, text, { mode: 0o755 });
  return path;
}

const BASE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** Runs a script with descriptor 3 open on a file named `name` (a notification-fd, say); returns what went into it. */
function runWithDescriptor3(name: string, text: string): { result: SpawnSyncReturns<string>; written: string } {
  const target = join(work, name);
  const fd = openSync(target, 'w');
  const result = spawnSync(process.execPath, [TOOL, 'execlineb', '-P', scriptFile(text)], { env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
  closeSync(fd);
  return { result, written: readFileSync(target, 'utf8') };
}

function run(text: string, options: { args?: string[]; flags?: string[]; env?: Record<string, string> } = {}): { code: number | null; stdout: string; stderr: string } {
  const file = scriptFile(text);
  const result = spawnSync(process.execPath, [TOOL, 'execlineb', ...(options.flags ?? ['-P']), file, ...(options.args ?? [])], {
    encoding: 'utf8',
    env: { ...BASE_ENV, ...options.env },
    cwd: work,
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('execlineb: the program replaces the interpreter', () => {
  it('has the pid the interpreter was started with, and every signal at its default', async () => {
    const file = scriptFile('#!/command/execlineb -P\nsh -c "echo pid=$$; grep -E \'^Sig(Ign|Blk)\' /proc/self/status"\n');
    const child = spawn(process.execPath, [TOOL, 'execlineb', '-P', file], { env: BASE_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(out, new RegExp(`^pid=${child.pid}$`, 'm'), out);
    assert.match(out, /^SigIgn:\s+0+$/m, out);
    assert.match(out, /^SigBlk:\s+0+$/m, out);
  });

  it('keeps stdout and stderr when they are the same pipe (2>&1)', () => {
    const file = scriptFile('foreground { echo from-block } sh -c "echo to-stdout; echo to-stderr >&2"\n');
    const result = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${TOOL}" execlineb -P "${file}" 2>&1`], { env: BASE_ENV, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout);
    assert.equal(result.stdout, 'from-block\nto-stdout\nto-stderr\n');
  });

  it('keeps the descriptors it inherited (a notification-fd) for the program and for blocks', () => {
    const { result, written } = runWithDescriptor3('fd3', 'foreground { sh -c "echo from-block >&3" }\nsh -c "echo from-program >&3"\n');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(written, 'from-block\nfrom-program\n');
  });
});

describe('execlineb: commands', () => {
  it('foreground, if, ifelse, ifte, ifthenelse and exit', () => {
    const { code, stdout, stderr } = run(`
foreground { sh -c "exit 3" }
importas -u status ?
foreground { echo status=$status }
if { true }
if -n { false }
ifelse { false } { echo wrong } 
ifte { echo ifte-then } { echo ifte-else } false
`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'status=3\nifte-else\n');
    assert.equal(run('ifthenelse { true } { echo then } { echo else } echo after').stdout, 'then\nafter\n');
    assert.equal(run('if { false } echo never').code, 1);
    assert.equal(run('if -t { false } echo never').code, 0);
    assert.equal(run('if { sh -c "kill -9 $$" } echo never').code, 128 + 9);
    assert.equal(run('foreground { echo a } exit 7').code, 7);
    // A failed test ends the chain with its own exit code.
    assert.equal(run('if { sh -c "exit 3" } echo never').code, 3);
  });

  it('importas, define, multisubstitute, export, unexport and emptyenv', () => {
    const { stdout, stderr } = run(
      `
importas -D fallback MISSING MISSING
importas -sC WORDS WORDS
define GREETING "hello world"
multisubstitute { importas -D d1 A A define B b-value }
export EXPORTED yes
unexport DROPPED
foreground { printf "%s|" $MISSING $WORDS "$GREETING" $A $B $UNSET }
foreground { echo }
emptyenv -p
sh -c "echo exported=\${EXPORTED-none} dropped=\${DROPPED-none} path=\${PATH:+set}"
`,
      { env: { WORDS: 'one two  three', DROPPED: 'x', A: 'a-value' } },
    );
    assert.equal(stdout, 'fallback|one|two|three|hello world|a-value|b-value|$UNSET|\nexported=none dropped=none path=set\n', stderr);
    const kept = run('export EXPORTED yes unexport DROPPED sh -c "echo $EXPORTED ${DROPPED-gone}"', { env: { DROPPED: 'x' } });
    assert.equal(kept.stdout, 'yes gone\n', kept.stderr);
  });

  it('define and importas chomp (-n) and crunch (-C) without splitting, as execline does', () => {
    const { stdout, stderr } = run(
      `
importas -n LINE LINE
define -n WITH_NEWLINE \${LINE}
importas -C -n SPACED SPACED
foreground { printf "[%s]" $LINE $WITH_NEWLINE $SPACED }
define -n -d x NO_X "valuex"
printf "[%s]\\n" $NO_X
`,
      { env: { LINE: 'ends with a newline\n\n', SPACED: 'a   b  ' } },
    );
    // One delimiter at the end goes, not two; a run of them is crunched to its first one first.
    assert.equal(stdout, '[ends with a newline\n][ends with a newline][a b][value]\n', stderr);
  });

  it('backtick, pipeline, heredoc and forx', () => {
    const { stdout, stderr } = run(`
backtick -E HOST { echo box-1 }
backtick SAVED { printf two-lines\\\\nsecond\\\\n }
foreground { sh -c "echo host=$1 saved=\\"$SAVED\\"" x $HOST }
foreground { pipeline { printf "b\\\\na\\\\n" } sort }
foreground { heredoc 0 "from heredoc\\n" cat }
forx X { 1 2 } importas X X echo item-$X
`);
    // HOST is substituted (-E), SAVED is in the environment: the shell expands it, without the last newline.
    assert.equal(stdout, 'host=box-1 saved=two-lines\nsecond\na\nb\nfrom heredoc\nitem-1\nitem-2\n', stderr);
  });

  it('backtick reads the block while it runs: more than a pipe holds, from a program or from a chain of commands', () => {
    const { stdout, stderr, code } = run(`
backtick -N A { sh -c "yes | head -c 100000" }
backtick -N B { foreground { sh -c "yes | head -c 70000" } sh -c "yes | head -c 30000" }
sh -c "echo \${#A} \${#B}"
`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, '100000 100000\n');
    const failed = run('backtick X { exit 3 } echo never');
    assert.equal(failed.code, 3, failed.stderr);
  });

  it('forx -E substitutes the value in the loop (autoimport), forx -e leaves it to importas, -S names both the same', () => {
    const { stdout, stderr, code } = run('foreground { forx -E i { 1 2 } echo item-${i} }\nforx -e j { a } importas -S j echo got-${j}\n');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'item-1\nitem-2\ngot-a\n');
  });

  it('cd, umask, redirfd, fdmove and fdclose', () => {
    const log = join(work, 'redir.log');
    const { stdout, stderr, code } = run(`
cd /usr
umask 027
foreground { redirfd -w 1 ${log} sh -c "pwd; umask" }
foreground { redirfd -a 1 ${log} fdmove -c 2 1 sh -c "echo to-stderr >&2" }
fdmove -c 2 1
fdclose 0
sh -c "echo stderr-now-stdout >&2; cat <&0 2>/dev/null || echo stdin-closed"
`);
    assert.equal(code, 0, stderr);
    assert.equal(readFileSync(log, 'utf8'), '/usr\n0027\nto-stderr\n');
    assert.equal(stdout, 'stderr-now-stdout\nstdin-closed\n');
  });

  it('redirfd -rnb and -wnb open a fifo at once with nobody at the other end, then leave it blocking; so does the /command shim', () => {
    const fifo = join(work, 'logger.fifo');
    spawnSync('mkfifo', [fifo]);
    // O_NONBLOCK is 04000 in the flags /proc shows: absent once -b has switched the mode back.
    const flagsOf0 = `sh -c "grep ^flags: /proc/self/fdinfo/0"`;
    const inBlock = run(`foreground { redirfd -rnb 0 ${fifo} ${flagsOf0} }\nredirfd -rnb 0 ${fifo} ${flagsOf0}`);
    assert.equal(inBlock.code, 0, inBlock.stderr);
    const flags = [...inBlock.stdout.matchAll(/^flags:\s+([0-7]+)$/gm)].map((match) => parseInt(match[1] ?? '', 8));
    assert.equal(flags.length, 2, inBlock.stdout);
    for (const value of flags) assert.equal(value & 0o4000, 0, `still non-blocking: ${inBlock.stdout}`);
    // A writer with no reader: the open succeeds; the program's first write then gets SIGPIPE, as with execline.
    const writer = run(`foreground { redirfd -wnb 1 ${fifo} sh -c "echo opened >&2; echo lost" } importas -u code ? echo writer=\${code}`);
    assert.match(writer.stderr, /opened/);
    // foreground gives 256 + the signal number for a block killed by a signal: 256 + SIGPIPE.
    assert.match(writer.stdout, /writer=269/);
    const shim = spawnSync(join(repoRoot, 'shims', 'redirfd'), ['-rnb', '0', fifo, 'echo', 'shim-opened'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(shim.stdout, 'shim-opened\n', shim.stderr);
    const missing = spawnSync(join(repoRoot, 'shims', 'redirfd'), ['-r', '0', join(work, 'no-such-file'), 'true'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(missing.status, 111, 'execline exits 111 when it cannot open the file');
    assert.match(missing.stderr, /redirfd: fatal: unable to open/);
  });

  it('redirfd opens its file once: blocks and the program share it, -w truncates once and -x creates once', () => {
    const shared = join(work, 'shared.log');
    const created = join(work, 'created.log');
    const { stderr, code } = run(`
redirfd -w 1 ${shared}
redirfd -x 2 ${created}
foreground { echo line1 }
foreground { sh -c "echo err1 >&2" }
forx i { 2 3 } importas i i echo line$i
`);
    assert.equal(code, 0, stderr);
    assert.equal(readFileSync(shared, 'utf8'), 'line1\nline2\nline3\n');
    assert.equal(readFileSync(created, 'utf8'), 'err1\n');
    // A fifo's open waits for the other end: in the background, it must not hold up the main chain that opens it.
    const fifo = join(work, 'redirfd-fifo');
    spawnSync('mkfifo', [fifo]);
    const through = run(`background { redirfd -w 1 ${fifo} echo through-fifo } redirfd -r 0 ${fifo} cat`);
    assert.equal(through.stdout, 'through-fifo\n', through.stderr);
  });

  it('the program is looked up in the PATH before the last command changed the environment, as execline executes it', () => {
    const bin = join(work, 'lookup-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'only-here'), '#!/bin/sh\necho found\n', { mode: 0o755 });
    const env = { PATH: `${bin}:${BASE_ENV.PATH}` };
    assert.equal(run('emptyenv only-here', { env }).stdout, 'found\n');
    assert.equal(run('exec -c only-here', { env }).stdout, 'found\n');
    assert.equal(run('export PATH /nowhere only-here', { env }).stdout, 'found\n');
    const earlier = run('unexport PATH export A b only-here', { env });
    assert.equal(earlier.code, 127, earlier.stderr);
    const block = run('export PATH /nowhere foreground { only-here } true', { env });
    assert.match(block.stderr, /unable to spawn only-here/);
  });

  it('fdmove and fdswap refuse a descriptor the script does not have, never one of the interpreter\'s own', () => {
    for (const script of ['fdmove 1 9 echo never', 'fdmove -c 1 9 echo never', 'fdswap 1 9 echo never', 'fdmove -c 9 1 fdclose 9 fdmove 1 9 echo never']) {
      const result = run(script);
      assert.equal(result.code, 111, script);
      assert.equal(result.stdout, '', script);
      assert.match(result.stderr, /^fd(move|swap): fatal: unable to (move fd 9 to fd 1|swap fds): EBADF/, script);
    }
    assert.equal(run('fdmove 9 1 fdmove 1 9 echo back').stdout, 'back\n');
    const { result, written } = runWithDescriptor3('inherited-fd3', 'fdmove 1 3 echo through-3\n');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(written, 'through-3\n');
  });

  it('a redirection that cannot be opened is named as such, not blamed on the program', () => {
    const { stdout, stderr, code } = run(`foreground { redirfd -w 1 ${join(work, 'no-such-dir', 'out')} echo hidden } echo after`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'after\n');
    assert.match(stderr, new RegExp(`^redirfd: fatal: unable to open ${join(work, 'no-such-dir', 'out')}: ENOENT`));
    assert.doesNotMatch(stderr, /unable to spawn echo/);
  });

  it('background -d leaves no child behind under the program that follows, as a double fork', () => {
    // read, a builtin: no process of its own to be counted among the children.
    const detached = run('background -d { sleep 2 }\nsh -c "sleep 0.3; read c < /proc/$$/task/$$/children; echo children=[$c]"');
    assert.equal(detached.stdout, 'children=[]\n', detached.stderr);
    const attached = run('background { sleep 2 }\nsh -c "sleep 0.3; read c < /proc/$$/task/$$/children; echo children=[$c]"');
    assert.match(attached.stdout, /^children=\[\d+\]$/m, attached.stderr);
  });

  it('s6-sleep waits, then runs the program after it; s6-echo takes -s and --', () => {
    const { stdout, stderr } = run('foreground { s6-sleep 0 echo chained }\nforeground { s6-sleep -m 100 echo after-ms }\nforeground { s6-echo -n -s , -- a b }\necho');
    assert.equal(stdout, 'chained\nafter-ms\na,b\n', stderr);
  });

  it('exec -a sets argv[0]; background with a chain of its own runs in a new interpreter', () => {
    const marker = join(work, 'background.out');
    const { stdout, stderr } = run(`
background { foreground { sh -c "echo bg-1 > ${marker}" } sh -c "echo bg-2 >> ${marker}" }
foreground { sleep 2 }
exec -a renamed sh -c "echo argv0=$0"
`);
    assert.equal(stdout, 'argv0=renamed\n', stderr);
    assert.equal(readFileSync(marker, 'utf8'), 'bg-1\nbg-2\n');
  });

  it('with-contenv reads the saved container environment over PATH alone; s6-envdir adds a directory', () => {
    const runDir = join(work, 'run');
    mkdirSync(join(runDir, 's6', 'container_environment'), { recursive: true });
    writeFileSync(join(runDir, 's6', 'container_environment', 'FROM_CONTAINER'), 'saved value\n');
    writeFileSync(join(runDir, 's6', 'container_environment', 'EMPTY'), '');
    const envdir = join(work, 'envdir');
    mkdirSync(envdir);
    writeFileSync(join(envdir, 'FIRST_LINE'), 'line one  \nline two\n');
    const { stdout, stderr } = run(`with-contenv s6-envdir ${envdir} sh -c "echo \\"$FROM_CONTAINER|$FIRST_LINE|\${LOCAL-unset}|\${EMPTY-unset}\\""`, {
      env: { STEWARD_RUN: runDir, LOCAL: 'only here', EMPTY: 'x' },
    });
    assert.equal(stdout, 'saved value|line one|unset|unset\n', stderr);
    const kept = run('with-contenv sh -c "echo ${LOCAL}"', { env: { STEWARD_RUN: runDir, LOCAL: 'kept', S6_KEEP_ENV: '1' } });
    assert.equal(kept.stdout, 'kept\n', kept.stderr);
  });

  it('s6-envdir: -c gives what a NUL becomes, -n keeps trailing blanks, a sub-directory is an error', () => {
    const envdir = join(work, 'envdir-options');
    mkdirSync(envdir);
    writeFileSync(join(envdir, 'PADDED'), 'a b  \nline two\n');
    writeFileSync(join(envdir, 'WITH_NUL'), 'x\0y\n');
    const { stdout, stderr } = run(`s6-envdir -n -c @ ${envdir} sh -c "printf [%s][%s] \\"$PADDED\\" \\"$WITH_NUL\\""`);
    assert.equal(stdout, '[a b  ][x@y]', stderr);
    mkdirSync(join(envdir, 'SUB'));
    const refused = run(`s6-envdir ${envdir} echo never`);
    assert.equal(refused.code, 111);
    assert.match(refused.stderr, /^s6-envdir: fatal: unable to envdir .*: EISDIR/);
  });

  it("justc-envdir (s6-overlay v2's): each file whole, newlines kept, up to a NUL; an empty file is an empty value; -I lets a missing directory through", () => {
    const envdir = join(work, 'envdir-justc');
    mkdirSync(envdir);
    writeFileSync(join(envdir, 'STAGE'), 'local');
    writeFileSync(join(envdir, 'TWO_LINES'), 'one\ntwo\n');
    writeFileSync(join(envdir, 'CUT'), 'kept\0dropped');
    writeFileSync(join(envdir, 'EMPTY'), '');
    const script = `justc-envdir ${envdir} sh -c "printf [%s][%s][%s][%s] \\"$STAGE\\" \\"$TWO_LINES\\" \\"$CUT\\" \\"\${EMPTY-unset}\\""`;
    const { stdout, stderr } = run(script, { env: { EMPTY: 'before' } });
    assert.equal(stdout, '[local][one\ntwo\n][kept][]', stderr);
    // As a program, by its own name, as v2's /usr/bin/justc-envdir and s6-overlay's /command one are called.
    const link = join(work, 'justc-envdir');
    symlinkSync(TOOL, link);
    const direct = spawnSync(process.execPath, [link, envdir, 'printenv', 'STAGE'], { env: BASE_ENV, encoding: 'utf8' });
    assert.equal(direct.stdout, 'local\n', direct.stderr);
    const missing = spawnSync(process.execPath, [link, join(work, 'nowhere'), 'true'], { env: BASE_ENV, encoding: 'utf8' });
    assert.equal(missing.status, 111);
    assert.match(missing.stderr, /^justc-envdir: fatal: unable to envdir .*nowhere: ENOENT/);
    const loose = spawnSync(process.execPath, [link, '-I', join(work, 'nowhere'), 'true'], { env: BASE_ENV, encoding: 'utf8' });
    assert.equal(loose.status, 0, loose.stderr);
  });

  it("justc-envdir drops the newline Steward writes after each value of the container environment, where the image's with-contenv reads that format", { skip: ['/command/with-contenv', '/usr/bin/with-contenv', '/usr/bin/with-contenvb'].some((path) => existsSync(path)) && 'this machine has a with-contenv of its own' }, () => {
    const runDir = join(work, 'run-justc');
    const saved = join(runDir, 's6', 'container_environment');
    mkdirSync(saved, { recursive: true });
    writeFileSync(join(saved, 'TZ'), 'Europe/Berlin\n');
    const { stdout, stderr } = run(`justc-envdir ${saved} sh -c "printf [%s] \\"$TZ\\""`, { env: { STEWARD_RUN: runDir } });
    assert.equal(stdout, '[Europe/Berlin]', stderr);
  });

  it('s6-setuidgid switches user in the program and in a block', { skip: !isRoot && 'needs root' }, () => {
    const { stdout, stderr } = run('foreground { s6-setuidgid nobody id -u } s6-setuidgid nobody sh -c "id -u; id -g"');
    assert.equal(stdout, '65534\n65534\n65534\n', stderr);
  });

  it('numbers too large for what they count are usage errors, not JavaScript ones', () => {
    const limit = run('s6-softlimit -m 99999999999999999999999 true');
    assert.equal(limit.code, 100, limit.stderr);
    assert.match(limit.stderr, /^s6-softlimit: fatal: -m takes a number up to 18446744073709551615 or "="/);
    const positionals = run('echo $1', { flags: ['-S', '99999999999'] });
    assert.equal(positionals.code, 100, positionals.stderr);
    assert.match(positionals.stderr, /^execlineb: fatal: -S 99999999999: at most 1000000 positional parameters/);
  });

  it('a uid or gid too large for one is refused with usage (100), not wrapped round to root', () => {
    for (const command of ['s6-setuidgid 4294967296:4294967296 id -u', 's6-applyuidgid -u 4294967296 -g 1 id -u', 's6-applyuidgid -u 1 -G 1,4294967297 id -u', 's6-envuidgid -D 4294967296:0 nosuchuser id -u']) {
      const refused = run(command);
      assert.equal(refused.code, 100, `${command}: ${refused.stderr}`);
      assert.equal(refused.stdout, '', command);
      assert.match(refused.stderr, /not a uid(:gid| or gid)/, command);
    }
    // The shell command in /command too (it hands the numbers to setpriv, su-exec or gosu).
    // 4294967295 is (uid_t)-1, which setuid refuses (111, as for s6) and setpriv would take for "unchanged".
    for (const [account, code] of [['4294967296:1', 100], ['1:4294967297', 100], ['abc:1', 100], ['4294967295:0', 111]] as const) {
      const shim = spawnSync(join(repoRoot, 'shims', 's6-setuidgid'), [account, 'echo', 'ran'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(shim.status, code, `${account}: ${shim.stderr}`);
      assert.equal(shim.stdout, '', account);
    }
    // What s6 takes, Steward takes: the largest uid as a value to export, and leading zeros.
    const exported = run('s6-envuidgid -D 4294967295:4294967295 no-such-user-here sh -c "echo $UID:$GID"');
    assert.equal(exported.stdout, '4294967295:4294967295\n', exported.stderr);
  });

  it('after s6-setuidgid, the rest of the chain runs as the account: its opens, reads and cd, in a block too', { skip: !isRoot && 'needs root' }, () => {
    // Outside the test's own temporary directory, which the account may not enter.
    const dir = mkdtempSync('/tmp/steward-account-');
    after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const closed = join(dir, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    writeFileSync(join(closed, 'SECRET'), 'root only\n');
    const { stdout, stderr, code } = run(`
foreground { s6-setuidgid nobody redirfd -w 1 ${open}/from-block id -u }
foreground { s6-setuidgid nobody cd ${closed} echo never }
importas -u cdStatus ?
foreground { s6-softlimit -o 50 foreground { s6-setuidgid nobody sh -c "ulimit -n" } true }
foreground { stat -c %U ${open}/from-block }
s6-setuidgid nobody
foreground { redirfd -w 1 ${open}/from-main true }
foreground { stat -c %U ${open}/from-main }
foreground { s6-envdir ${closed} echo never }
importas -u envdirStatus ?
echo cd=$cdStatus envdir=$envdirStatus
`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, '50\nnobody\nnobody\ncd=111 envdir=111\n', stderr);
    assert.equal(readFileSync(join(open, 'from-block'), 'utf8'), '65534\n');
  });

  it('s6-portable-utils names fall back to the usual programs when not in PATH', () => {
    assert.equal(run('foreground { s6-echo stand in } if { eltest -d / } s6-echo ok').stdout, 'stand in\nok\n');
  });
});

describe('execlineb: positional parameters', () => {
  it('-S substitutes $0, $N, $# and $@; -s shifts $@; the default sets them in the environment', () => {
    const file = (flags: string[], text: string, args: string[]): string => run(text, { flags, args }).stdout;
    // Up to $2 with -S2: $3 is left as it is.
    assert.equal(file(['-S2'], 'echo $1 $2 $3 $# $@', ['a', 'b c']), 'a b c $3 2 a b c\n');
    assert.equal(file(['-s1'], 'echo $1 -- $@', ['a', 'b', 'c']), 'a -- b c\n');
    assert.equal(file(['-p'], 'foreground { printenv 1 } printenv "#"', ['x', 'y']), 'x\n2\n');
    const few = run('echo [${1}] [${2}]', { flags: ['-S2'], args: ['one'] });
    assert.equal(few.stdout, '[one] []\n');
    assert.equal(few.stderr, 'execlineb: warning: too few arguments: expecting at least 2 but got 1\n');
  });

  it('-c runs a script given on the command line', () => {
    const result = spawnSync(process.execPath, [TOOL, 'execlineb', '-Pc', 'foreground { echo one } echo two'], { encoding: 'utf8', env: BASE_ENV });
    assert.equal(result.stdout, 'one\ntwo\n');
  });
});

describe('execlineb: errors name what is wrong', () => {
  it('a syntax error: exit 100, the file and the line', () => {
    const result = run('#!/command/execlineb -P\nforeground {\n  echo a\n');
    assert.equal(result.code, 100);
    assert.match(result.stderr, /^execlineb: fatal: .*script-\d+:2: a \{ block \} is not closed/);
  });

  it('a program that is not found: exit 127, naming it', () => {
    const result = run('no-such-program --flag');
    assert.equal(result.code, 127);
    assert.match(result.stderr, /execlineb: fatal: unable to exec no-such-program: No such file or directory/);
  });

  it('an execline command it does not provide: exit 127, naming it and the script, when no real one is in PATH', () => {
    const result = run('forqueue 2 echo x');
    assert.equal(result.code, 127);
    assert.match(result.stderr, /unable to exec forqueue: .*script-\d+ uses forqueue, and Steward's execlineb does not provide it/);
  });

  it('a bad argument: exit 100, naming the command and its usage', () => {
    const result = run('fdmove -c two 1 echo x');
    assert.equal(result.code, 100);
    assert.match(result.stderr, /^fdmove: fatal: "two" is not a file descriptor number; usage: fdmove/);
    const missing = run('cd /no/such/dir echo x');
    assert.equal(missing.code, 111);
    assert.match(missing.stderr, /^cd: fatal: unable to chdir to \/no\/such\/dir: ENOENT/);
  });
});

/** skarnet's execlineb from Debian's execline package, whose commands live outside PATH. */
const REAL_EXECLINEB = '/usr/bin/execlineb';
const REAL_PATH = `/usr/lib/execline/bin:${BASE_ENV.PATH}`;

describe('execlineb: the same results as skarnet\'s', { skip: !existsSync(REAL_EXECLINEB) && 'needs Debian\'s execline package' }, () => {
  const cases = [
    'echo "a\\101b" "\\x41" "tab\\there" "q\\"q" back\\\\slash a\\ b',
    'define X v echo \\$X \\\\$X \\\\\\$X ${X}y $Xy [$X] [$X $X$X',
    'foreground { sh -c "kill -9 $$" } importas S ? echo $S',
    'foreground { sh -c "exit 3" } importas S ? echo $S',
    'if { sh -c "exit 4" } echo no',
    'if -n { true } echo no',
    'if { no-such-program } echo never',
    'backtick X { no-such-program } echo never',
    'foreground { no-such-program } importas r ? echo ?=$r',
    'pipeline { no-such-program } cat',
    'foreground { if -X { sh -c "kill -9 $$" } echo no } importas S ? echo $S',
    'if -nX { sh -c "kill -9 $$" } echo yes',
    'ifelse -X { sh -c "kill -9 $$" } { echo then } echo else',
    'ifte -X { echo then } { echo else } sh -c "kill -9 $$"',
    'ifthenelse -X { sh -c "kill -9 $$" } { echo then } { echo else } echo after',
    'importas -D def UNSETVAR UNSETVAR echo a $UNSETVAR pre$UNSETVAR b',
    'backtick -E X { printf "a\\nb\\n\\n" } echo [${X}]',
    'backtick -E -D dflt X { false } echo $X',
    'backtick -E T { echo tok } sh -c "echo $1 ${T-unset}" x $T',
    'backtick -I X { sh -c "echo partial; exit 3" } sh -c "echo ${X-unset}"',
    'backtick -x X { sh -c "echo partial; exit 3" } sh -c "echo ${X-unset}"',
    'backtick -N X { sh -c "yes | head -c 100000" } sh -c "echo ${#X}"',
    'ifelse { false } { echo then } echo else',
    'ifte { echo then } { echo else } true',
    'ifthenelse { false } { echo then } { echo else } echo after',
    'define -s L "x y" echo pre$L ${L}-${L}',
    'define -s X " a  b  " printf [%s] $X',
    'define -sC X " a  b  " printf [%s] $X',
    'define -sn X " a b  " printf [%s] $X',
    'define -sd: X "a::b:" printf [%s] $X',
    'export F "--a  --b" importas -s F F printf [%s] $F',
    'multisubstitute { define A 1 define B $A } echo $A $B',
    'forx X { a b } importas X X echo item $X',
    'foreground { forx v { 1 2 } exit 3 } importas S ? echo $S',
    'foreground { forx -o 0 v { 1 2 } exit 3 } importas S ? echo $S',
    'foreground { forx -x 3 v { 1 2 } exit 3 } importas S ? echo $S',
    'forx -p -o 0 v { 2 1 } importas v v sh -c "sleep 0.$1; echo $1; exit $1" x $v',
    'pipeline { echo piped } cat',
    'heredoc 0 "hello\\n" cat',
    'export A 1 unexport A sh -c "echo ${A-unset}"',
    'cd /usr umask 077 sh -c "pwd; umask"',
    'exec -a foo sh -c "echo $0"',
    'fdmove -c 2 1 sh -c "echo err >&2"',
    'getcwd D echo $D',
    'foreground { } "foreground" { echo q } echo "#notcomment" #comment',
    'exit 5',
  ];
  for (const script of cases) {
    it(script, () => {
      const options = { encoding: 'utf8' as const, cwd: work, timeout: 20_000 };
      const ours = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${TOOL}" execlineb -Pc "$SCRIPT" 2>&1`], { ...options, env: { ...BASE_ENV, SCRIPT: script } });
      const real = spawnSync('/bin/sh', ['-c', `${REAL_EXECLINEB} -Pc "$SCRIPT" 2>&1`], { ...options, env: { PATH: REAL_PATH, SCRIPT: script } });
      assert.deepEqual({ status: ours.status, output: ours.stdout }, { status: real.status, output: real.stdout });
    });
  }
});

describe("execline's commands run as programs, as shell run scripts chain them", () => {
  /** The tool run under a command's name, as the /command/NAME link runs it. */
  function asProgram(name: string, args: readonly string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
    const dir = mkdtempSync(join(work, 'links-'));
    symlinkSync(TOOL, join(dir, name));
    const result = spawnSync(join(dir, name), args, { encoding: 'utf8', env: { ...BASE_ENV, ...env }, cwd: work, timeout: 20_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('each one is run by the interpreter itself, so none executes itself again in a loop', () => {
    for (const name of EXECLINE_PROGRAMS) assert.ok(BUILTIN_COMMANDS.has(name), name);
  });

  it("PID 1's table of the interpreter's commands (kept apart from them for its bundle) names them all, with their options", () => {
    const byName = (entries: Iterable<[string, string | undefined]>): [string, string | undefined][] => [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(byName(BUILTIN_COMMAND_OPTIONS), byName([...BUILTIN_COMMANDS].map(([name, command]) => [name, command.options])));
  });

  it('cd changes directory and goes on with the chain, s6-setuidgid included', { skip: !isRoot && 'needs root to change user' }, () => {
    const { code, stdout, stderr } = asProgram('cd', ['/usr', 's6-setuidgid', 'nobody', 'sh', '-c', 'pwd; id -u']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, '/usr\n65534\n');
  });

  it('exec runs the program, with -a giving it another argv[0], as /command/exec', () => {
    const plain = asProgram('exec', ['sh', '-c', 'echo "$0 $1"', 'ignored-name', 'word']);
    assert.equal(plain.stdout, 'ignored-name word\n', plain.stderr);
    const renamed = asProgram('exec', ['-a', 'myname', 'sh', '-c', 'echo $0']);
    assert.equal(renamed.stdout, 'myname\n', renamed.stderr);
    const nothing = asProgram('exec', []);
    assert.equal(nothing.code, 100);
    assert.match(nothing.stderr, /usage: exec /);
  });

  it('case, multidefine, trap, wait and the descriptor commands run by their names too, as skarnet\'s programs do', { skip: !existsSync('/usr/lib/execline/bin/case') && "needs Debian's execline package" }, () => {
    const calls: [string, string[]][] = [
      ['case', ['abc', ...encodeArgv([{ block: ['a.*', { block: ['echo', 'matched'], line: 0 }], line: 0 }]), 'echo', 'default']],
      ['multidefine', ['a b', ...encodeArgv([{ block: ['X', 'Y'], line: 0 }]), 'sh', '-c', 'echo "[$X] [$Y]"']],
      ['trap', [...encodeArgv([{ block: ['SIGTERM', { block: ['echo', 'term'], line: 0 }], line: 0 }]), 'sh', '-c', 'kill -TERM $PPID; sleep 0.3; echo child']],
      ['wait', ['', 'echo', 'no children']],
      ['piperw', ['5', '6', 'sh', '-c', 'echo piped >&6; exec 6>&-; cat <&5']],
      ['fdreserve', ['2', 'sh', '-c', 'echo $FD0 $FD1']],
      ['fdblock', ['0', 'echo', 'blocking']],
    ];
    for (const [name, args] of calls) {
      const env = { PATH: '/usr/bin:/bin' };
      const real = spawnSync(`/usr/lib/execline/bin/${name}`, args, { encoding: 'utf8', env, cwd: work, timeout: 20_000 });
      const mine = asProgram(name, args, env);
      assert.deepEqual({ code: mine.code, stdout: mine.stdout }, { code: real.status, stdout: real.stdout }, `${name}: ${mine.stderr}`);
    }
  });

  it('blocks come as execline encodes them in argv; a failure exits as execline does', () => {
    const blocks = asProgram('foreground', [...encodeArgv([{ block: ['sh', '-c', 'echo one'], line: 0 }]), 'echo', 'two']);
    assert.equal(blocks.stdout, 'one\ntwo\n', blocks.stderr);
    const missing = asProgram('cd', [join(work, 'no-such-dir'), 'true']);
    assert.equal(missing.code, 111);
    assert.match(missing.stderr, /^cd: fatal: .*no-such-dir/m);
  });

  it('a word that starts with a space is a block only where a command takes one, as with execline', () => {
    const words = asProgram('cd', ['/', 'printf', '[%s]', ' y', '', 'z']);
    assert.equal(words.stdout, '[ y][][z]', words.stderr);
    const nested = asProgram('foreground', [' printf', ' [%s]', '  x', ' y', '', 'printf', '|%s', ' done']);
    assert.equal(nested.stdout, '[ x][y]| done', nested.stderr);
  });
});

describe("Steward's own commands run from a script: the environment whole", () => {
  const command = mkdtempSync(join(work, 'command-'));
  for (const name of ['execlineb', 's6-envdir']) symlinkSync(TOOL, join(command, name));
  const PATH = `${command}:${BASE_ENV.PATH}`;
  const envdir = mkdtempSync(join(work, 'env-'));
  const script = 'export spring.profiles.active prod execlineb -c "importas -D none p spring.profiles.active importas -D none v 1:1 importas -D none n 2:1 foreground { echo $p $v $n } emptyenv -P importas -D none w 1 echo popped $w" inner';

  it('a nested /command/execlineb gets names no shell keeps, and the positional parameters its caller left, as execline\'s', () => {
    const result = run(script, { flags: [], args: ['outer-a', 'outer-b'], env: { PATH, STEWARD_NODE_OPTIONS: '--no-such-option' } });
    assert.equal(result.stdout, 'prod outer-a outer-b\npopped outer-a\n', result.stderr);
    if (existsSync(REAL_EXECLINEB)) {
      const real = spawnSync(REAL_EXECLINEB, [scriptFile(script), 'outer-a', 'outer-b'], { encoding: 'utf8', env: { PATH: `/usr/lib/execline/bin:${BASE_ENV.PATH}` }, cwd: work });
      assert.equal(result.stdout, real.stdout, real.stderr);
    }
  });

  // (The outer execlineb is started on Node here, with NODE_OPTIONS set aside as its launcher would.)
  it('NODE_OPTIONS is set aside for its Node and given back to what it runs', () => {
    const result = run(`s6-envdir ${envdir} sh -c "echo $NODE_OPTIONS"`, { env: { PATH, STEWARD_NODE_OPTIONS: '--no-such-option' } });
    assert.equal(result.stdout, '--no-such-option\n', result.stderr);
  });
});
