import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { destroy, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

// Counts zombies among this shell's parent's children: as PID 1 that is the whole namespace.
const countZombies = `zombies() { n=0; for s in /proc/[0-9]*/stat; do
  read -r line < "$s" 2>/dev/null || continue
  rest=\${line##*) }; state=\${rest%% *}; rest=\${rest#* }; ppid=\${rest%% *}
  [ "$state" = Z ] && [ "$ppid" = "$1" ] && n=$((n+1)); done; echo $n; }`;

test('2,000 orphans reparented to PID 1 leave no zombie', { skip: !isRoot && 'needs root for a PID namespace' }, async () => {
  const etc = scriptTree({});
  const script = `${countZombies}
i=0; while [ $i -lt 2000 ]; do ( /bin/true & ); i=$((i+1)); done
echo spawned=$i
# Bounded wait: the reaper should collect them all almost at once.
t=0; while [ "$(zombies 1)" != 0 ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t+1)); done
echo zombies=$(zombies 1)`;
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run`, S6_VERBOSITY: '1' }, args: ['sh', '-c', script] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(lastValue(run.output(), 'spawned'), '2000');
  assert.equal(lastValue(run.output(), 'zombies'), '0', run.output());
  assert.equal(code, 0);
});

test('as a subreaper (not PID 1), orphaned grandchildren are reparented to Steward and reaped', async () => {
  const etc = scriptTree({});
  // $PPID is Steward. The orphans must show up as its children, then disappear without zombies.
  const script = `${countZombies}
for i in 1 2 3 4 5 6 7 8 9 10; do ( sleep 2 & ); done
# Counted until all ten are seen (a loaded machine is slow to fork them), well before they end.
tries=0; while :; do
  n=0; for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null || continue
    rest=\${line##*) }; rest=\${rest#* }; ppid=\${rest%% *}; case $line in *"(sleep)"*) [ "$ppid" = "$PPID" ] && n=$((n+1));; esac; done
  tries=$((tries+1)); [ $n -ge 10 ] || [ $tries -ge 15 ] && break; sleep 0.1
done
echo adopted=$n
# Once none of them runs any more (polled for, up to 10 s, rather than guessed at), none may be left a zombie.
running() { n=0; for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null || continue
    rest=\${line##*) }; state=\${rest%% *}; rest=\${rest#* }; ppid=\${rest%% *}; case $line in *"(sleep)"*) [ "$ppid" = "$PPID" ] && [ "$state" != Z ] && n=$((n+1));; esac; done; echo $n; }
t=0; while [ "$(running)" != 0 ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t+1)); done
t=0; while [ "$(zombies $PPID)" != 0 ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t+1)); done
echo zombies=$(zombies $PPID)`;
  const run = startInit({ pid1: false, env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['sh', '-c', script] });
  runs.push(run);
  const { code } = await run.exited;
  assert.match(run.output(), /acting as a child subreaper/);
  assert.equal(lastValue(run.output(), 'adopted'), '10', run.output());
  assert.equal(lastValue(run.output(), 'zombies'), '0', run.output());
  assert.equal(code, 0);
});

test('with every descriptor in use, PID 1 still reaps the command and orphans, keeps the exit code, and stops', { skip: !isRoot && 'needs root for a PID namespace', timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'services.d/svc/run': '#!/bin/sh\nexec sleep 1000\n' });
  const steward = join(repoRoot, 'bin', 'steward');
  // The limit is lowered to what PID 1 holds now: not one descriptor is left free. Listing
  // /proc to find who exited, and writing the exit code, each need one.
  const script = `${countZombies}
n=$(ls /proc/1/fd | wc -l)
prlimit --pid 1 --nofile=$n:$n || exit 90
( sleep 0.3 & )
sleep 0.8
echo zombies=$(zombies 1)
${process.execPath} ${steward} status >/dev/null 2>&1; echo status=$?
exit 7`;
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run`, STEWARD_SOCKET: `${etc}/control.sock`, S6_VERBOSITY: '2' }, args: ['sh', '-c', script] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(lastValue(run.output(), 'zombies'), '0', run.output());
  // The status request may be refused (no descriptor to accept it with), but PID 1 goes on.
  assert.notEqual(lastValue(run.output(), 'status'), undefined, run.output());
  assert.match(run.output(), /the command exited 7/);
  assert.equal(code, 7, run.output());
});

test('as a subreaper, a service that keeps forking workers that ignore TERM leaves none behind', { timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'services.d/forker/run': `#!/bin/sh
trap '' TERM
while :; do (trap '' TERM; echo $(exec sh -c 'echo $PPID') >> "$MARK/workers"; exec sleep 1000 </dev/null >/dev/null 2>&1) & sleep 0.01; done
`,
  });
  const run = startInit({
    pid1: false,
    env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run`, S6_KEEP_ENV: '1', MARK: etc, S6_SERVICES_GRACETIME: '300', S6_KILL_GRACETIME: '300' },
    args: ['sh', '-c', `while [ "$(wc -l < "${etc}/workers" 2>/dev/null || echo 0)" -lt 20 ]; do sleep 0.05; done; exit 0`],
  });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  const workers = readFileSync(`${etc}/workers`, 'utf8').split('\n').filter((line) => line !== '').map(Number);
  assert.ok(workers.length >= 20);
  const alive = workers.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  // Survivors would go to the host's init: not left there, whatever the outcome.
  for (const pid of alive) process.kill(pid, 'SIGKILL');
  assert.deepEqual(alive, [], run.output());
  assert.doesNotMatch(run.output(), /outlived the KILL signal/);
});

test("as a subreaper whose /proc is the parent namespace's, a service that ignores TERM is killed, not left behind", { skip: !isRoot && 'needs root for a PID namespace', timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'services.d/stubborn/run': '#!/bin/sh\necho $$ > "$MARK/pid"\ntrap "" TERM\nexec sleep 1000\n' });
  // sh is the namespace's PID 1 and Steward its child; once Steward is done, sh looks for the
  // service in this namespace (/proc there numbers processes as the host does: kill -0 does not).
  const launcher = ['sh', '-c', '"$@"; code=$?; if kill -0 "$(cat "$MARK/pid")" 2>/dev/null; then echo left=yes; else echo left=no; fi; exit $code', 'sh'];
  const run = startInit({
    ownProc: false,
    launcher,
    env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run`, S6_KEEP_ENV: '1', MARK: etc, S6_SERVICES_GRACETIME: '300', S6_KILL_GRACETIME: '300' },
    args: ['sh', '-c', `while [ ! -s "${etc}/pid" ]; do sleep 0.05; done`],
  });
  runs.push(run);
  const { code } = await run.exited;
  assert.match(run.output(), /acting as a child subreaper/);
  assert.equal(lastValue(run.output(), 'left'), 'no', run.output());
  assert.equal(code, 0, run.output());
});

test('started by a PID 1 without exec that has no SIGTERM handler (a shell-form ENTRYPOINT under dash), Steward warns that a stop cannot reach it, and runs', { skip: !isRoot && 'needs root for a PID namespace', timeout: 60_000 }, async () => {
  const etc = scriptTree({});
  // What Docker runs for ENTRYPOINT /init: /bin/sh -c /init, where dash forks rather than execs
  // when more follows (here, so that it does whatever /bin/sh is).
  const run = startInit({ launcher: ['/bin/sh', '-c', '"$@"; exit $?', 'sh'], env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['sh', '-c', 'exit 3'] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 3, run.output());
  assert.match(run.output(), /steward: warning: PID 1 \((dash|sh|bash)\) started Steward without exec and has no handler for SIGTERM .* Use the exec form, ENTRYPOINT \["\/init"\], or exec \/init in the wrapper/, run.output());
  // A wrapper that catches TERM and passes it on is no such case.
  const passing = startInit({ launcher: ['/bin/bash', '-c', 'trap \'kill -TERM $child\' TERM; "$@" & child=$!; wait $child; exit $?', 'bash'], env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['sh', '-c', 'exit 4'] });
  runs.push(passing);
  assert.equal((await passing.exited).code, 4, passing.output());
  assert.doesNotMatch(passing.output(), /has no handler for SIGTERM/);
  // Under an init that forwards signals (tini, docker run --init), nothing of the kind.
  const forwarded = startInit({ pid1: false, env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['true'] });
  runs.push(forwarded);
  assert.equal((await forwarded.exited).code, 0, forwarded.output());
  assert.doesNotMatch(forwarded.output(), /has no handler for SIGTERM/);
  // Nor under one that, as tini, blocks TERM to wait for it (no handler: the kernel keeps it pending).
  const tiniLike =
    'use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTERM)); my $pid = fork; if ($pid == 0) { sigprocmask(SIG_UNBLOCK, POSIX::SigSet->new(SIGTERM)); exec @ARGV; exit 127 } waitpid($pid, 0); exit($? >> 8)';
  const blocking = startInit({ launcher: ['perl', '-e', tiniLike], env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['sh', '-c', 'exit 5'] });
  runs.push(blocking);
  assert.equal((await blocking.exited).code, 5, blocking.output());
  assert.match(blocking.output(), /acting as a child subreaper/);
  assert.doesNotMatch(blocking.output(), /has no handler for SIGTERM/);
  // tini itself, which waits for TERM in sigtimedwait: an empty mask while it waits.
  const tini = startInit({ launcher: ['tini', '-s', '--'], env: { STEWARD_ETC: etc, STEWARD_RUN: `${etc}/run` }, args: ['sh', '-c', 'exit 6'] });
  runs.push(tini);
  assert.equal((await tini.exited).code, 6, tini.output());
  assert.doesNotMatch(tini.output(), /has no handler for SIGTERM/);
});
