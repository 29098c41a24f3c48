import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { repoRoot } from '../helpers/pid1.js';

/** trap and wait, the commands that watch the process's children and signals, against skarnet's. */
const TOOL = join(repoRoot, 'bin', 's6-tool');
const REAL_EXECLINEB = '/usr/bin/execlineb';
const BASE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const work = mkdtempSync(join(tmpdir(), 'steward-execline-children-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Outcome {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], path: string): Outcome {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: work, env: { PATH: path }, timeout: 20_000 });
  return { status: result.status, signal: result.signal, output: result.stdout };
}

const ours = (script: string): Outcome => run(process.execPath, [TOOL, 'execlineb', '-P', '-c', script], BASE_PATH);
const skarnets = (script: string): Outcome => run(REAL_EXECLINEB, ['-P', '-c', script], `/usr/lib/execline/bin:${BASE_PATH}`);

/** A program that sends its parent (trap) signals, then ends with `code` once trap had time to act. */
const sending = (signals: string, code = 0): string => `sh -c "for s in ${signals}; do kill -$s $PPID; sleep 0.2; done; sleep 0.3; exit ${code}"`;

const TRAP_CASES: readonly string[] = [
  // The command line gets SIGNAL and ! (the program's pid), the program neither.
  `trap { term { importas S SIGNAL importas P ! sh -c "test $P -gt 1 && echo handled $S" } } sh -c "echo prog \${SIGNAL-none} \${!-none}; kill -TERM $PPID; sleep 0.5; exit 3"`,
  `trap { SIGUSR1 { echo one } 12 { echo two } } ${sending('USR1 USR2', 4)}`,
  `trap { Hup { echo hup } } ${sending('HUP HUP')}`,
  `trap { default { importas S SIGNAL echo default $S } } ${sending('USR2 TERM')}`,
  // -x: what has no directive goes to the program; a directive or a default takes it instead.
  `trap -x { } true`,
  `trap -x { usr1 { echo usr1 } } sh -c "trap \\"echo child got TERM; exit 7\\" TERM; kill -USR1 $PPID; sleep 0.2; kill -TERM $PPID; sleep 1"`,
  `trap -x { default { echo default } } sh -c "trap \\"echo child got TERM; exit 7\\" TERM; kill -TERM $PPID; sleep 0.5"`,
  // A signal without a directive and without -x: its default action, on trap (the program goes on).
  `trap { usr1 { echo usr1 } } sh -c "kill -TERM $PPID; sleep 0.3; echo orphan"`,
  // SIGUSR1 ends the interpreter waiting for a block, as it ends execline's (Node would open its debugger).
  'foreground { sh -c "kill -USR1 $PPID; sleep 0.5" } echo after',
  // The program's end: its exit code, 128 plus the signal that killed it.
  'trap { term { echo no } } sh -c "exit 9"',
  // Trapped signals still coming as trap ends (a stream of HUPs) do not change its exit code.
  'trap { hup { true } } sh -c "(while kill -HUP $PPID 2>/dev/null; do :; done) & sleep 0.3; exit 3"',
  // A background in a directive leaves no zombie child of trap behind.
  `trap { hup { background { true } true } } sh -c "kill -HUP $PPID; sleep 0.3; kill -HUP $PPID; sleep 0.3; for p in $(cat /proc/$PPID/task/*/children); do grep -h ^State /proc/$p/status; done | grep -c zombie; exit 4"`,
  'trap { term { echo no } } sh -c "kill -9 $$"',
  // Whether the command line for a signal still runs or not, trap ends with the program.
  `trap { term { sh -c "echo slow; sleep 0.4; echo done" } } ${sending('TERM TERM', 2)}`,
  // An empty command line: the signal is caught, nothing runs, the program goes on.
  `trap { term { } } ${sending('TERM TERM', 5)}`,
  `trap { default { } } ${sending('HUP USR1', 6)}`,
  // In a block, trap runs in a process of its own.
  `foreground { trap { term { echo handled } } ${sending('TERM', 5)} } importas Q ? echo after $Q`,
  // Mistakes: execline's exit codes.
  'trap { foo { echo x } } true',
  'trap { kill { echo x } } true',
  'trap { chld { echo x } } true',
  'trap { term { echo a } TERM { echo b } } true',
  'trap { term } true',
  'trap { term { echo x } }',
  'trap { term { echo x } } no-such-program',
];

// The sleeps order the children's ends with a margin (0.7 s and more) that a busy machine's
// slower starts do not eat up.
const WAIT_CASES: readonly string[] = [
  'background { sh -c "sleep 0.8; echo first; exit 3" } background { sh -c "sleep 0.1; echo second; exit 5" } wait { } echo all done',
  'background { sh -c "sleep 0.8; exit 3" } importas P ! background { sh -c "sleep 0.1; echo other; exit 5" } wait { $P } echo listed done',
  'background { sh -c "sleep 0.8; exit 3" } background { sh -c "sleep 0.1; exit 5" } wait -o { } importas Q ? echo one $Q',
  'background { sh -c "kill -9 $$" } wait -o { } importas Q ? echo one $Q',
  'wait -o { } importas -D unset Q ? importas -D unset P ! echo none $Q $P',
  'background { sh -c "sleep 1; echo late" } wait -t 100 { } echo timed out',
  'background { sleep 1 } wait -i -t 100 { } echo not here',
  // Of -I and -i, the last one given wins.
  'background { sleep 1 } wait -I -i -t 100 { } echo not here',
  'background { sleep 1 } wait -i -I -t 100 { } echo here',
  'background { sh -c "sleep 0.8; echo late" } wait -r { } echo reaped',
  'wait { 1 } echo not a child',
  'wait { x } echo bad',
  'wait { }',
  // In a block, the children are the block's own, as background started them there.
  'foreground { background { sh -c "sleep 0.8; echo in block" } wait { } } echo after',
  'foreground { wait -o { } importas -D unset Q ? echo nothing $Q } echo after',
];

describe('trap: the same results as skarnet\'s', { skip: !existsSync(REAL_EXECLINEB) && "needs Debian's execline package" }, () => {
  for (const script of TRAP_CASES) {
    it(script, () => {
      assert.deepEqual(ours(script), skarnets(script));
    });
  }
});

describe('wait: the same results as skarnet\'s', { skip: !existsSync(REAL_EXECLINEB) && "needs Debian's execline package" }, () => {
  for (const script of WAIT_CASES) {
    it(script, () => {
      assert.deepEqual(ours(script), skarnets(script));
    });
  }
});

describe('trap leaves nothing behind', () => {
  it('no zombie and no handler once the program ended: the interpreter exits as soon as it has', () => {
    const started = Date.now();
    const result = ours(`trap -x { term { echo handled } } sh -c "kill -TERM $PPID; sleep 0.2; exit 6"`);
    assert.deepEqual(result, { status: 6, signal: null, output: 'handled\n' });
    assert.ok(Date.now() - started < 5000);
  });
});
