import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CompiledGraph } from '../../src/graph/compile.js';
import { Engine, type EngineEvents, type TransitionResult, type TransitionRunner } from '../../src/graph/engine.js';
import type { RcAtomic, RcOneshot } from '../../src/model/rc.js';
import { bundle, graph, longrun, oneshot } from '../helpers/rc-graph.js';

/**
 * A runner whose transitions end when the test says so. It logs every call and every
 * end in order, so a test reads what ran, in which order, and what overlapped.
 */
class FakeRunner implements TransitionRunner {
  readonly log: string[] = [];
  readonly #pending = new Map<string, (result: TransitionResult) => void>();
  /** Results given in advance: the transition ends at once with it. */
  readonly #preset = new Map<string, TransitionResult>();

  constructor(private readonly autoFinish = false) {}

  up(atomic: RcAtomic): Promise<TransitionResult> {
    return this.#begin(`up ${atomic.name}`);
  }

  down(atomic: RcAtomic): Promise<TransitionResult> {
    return this.#begin(`down ${atomic.name}`);
  }

  /** Ends a transition in progress ("up NAME" or "down NAME"). */
  finish(key: string, result: TransitionResult = { ok: true }): void {
    const resolve = this.#pending.get(key);
    assert.ok(resolve !== undefined, `${key} is not in progress; log: ${this.log.join(', ')}`);
    this.#pending.delete(key);
    this.log.push(`end ${key}`);
    resolve(result);
  }

  preset(key: string, result: TransitionResult): void {
    this.#preset.set(key, result);
  }

  get inProgress(): string[] {
    return [...this.#pending.keys()].sort();
  }

  #begin(key: string): Promise<TransitionResult> {
    this.log.push(key);
    const preset = this.#preset.get(key);
    if (preset !== undefined || this.autoFinish) {
      this.log.push(`end ${key}`);
      return Promise.resolve(preset ?? { ok: true });
    }
    return new Promise((resolve) => this.#pending.set(key, resolve));
  }
}

function recordingEvents(): EngineEvents & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    starting: (atomic) => lines.push(`starting ${atomic.name}`),
    started: (atomic) => lines.push(`started ${atomic.name}`),
    failed: (atomic, reason) => lines.push(`failed ${atomic.name}: ${reason}`),
    blocked: (atomic, because) => lines.push(`blocked ${atomic.name}: ${because}`),
    stopping: (atomic) => lines.push(`stopping ${atomic.name}`),
    stopped: (atomic, result) => lines.push(`stopped ${atomic.name}${result.ok ? '' : `: ${result.reason}`}`),
    kept: (atomic, because) => lines.push(`kept ${atomic.name}: ${because}`),
  };
}

/** Lets every settled promise run its continuations. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function engine(compiled: CompiledGraph, runner: TransitionRunner): { engine: Engine; events: ReturnType<typeof recordingEvents> } {
  const events = recordingEvents();
  let now = 0;
  return { engine: new Engine(compiled, runner, events, () => ++now), events };
}

const never = new AbortController().signal;

describe('Engine.bringUp', () => {
  it('starts independent services at the same time, and a dependent only once all its dependencies are up', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(graph(oneshot('a'), oneshot('b'), longrun('c'), oneshot('d', ['a', 'b', 'c'])), runner);
    const done = rc.bringUp(['a', 'b', 'c', 'd'], never);
    await settle();
    // All three independent transitions run together; d waits.
    assert.deepEqual(runner.inProgress, ['up a', 'up b', 'up c']);
    assert.equal(rc.state('d'), 'down');
    runner.finish('up b');
    runner.finish('up a');
    await settle();
    assert.deepEqual(runner.inProgress, ['up c'], 'd started before c was up');
    assert.equal(rc.state('a'), 'up');
    assert.equal(rc.state('c'), 'starting');
    runner.finish('up c');
    await settle();
    assert.deepEqual(runner.inProgress, ['up d']);
    runner.finish('up d');
    assert.deepEqual(await done, { failed: [], blocked: [], abandoned: [] });
    assert.deepEqual(runner.log, ['up a', 'up b', 'up c', 'end up b', 'end up a', 'end up c', 'up d', 'end up d']);
  });

  it('brings up what a bundle names, and what that needs, once each', async () => {
    const runner = new FakeRunner(true);
    const { engine: rc } = engine(graph(oneshot('base-step'), oneshot('x', ['base-step']), oneshot('y', ['base-step']), oneshot('unrelated'), bundle('app', ['x', 'y'])), runner);
    const outcome = await rc.bringUp(['app'], never);
    assert.deepEqual(outcome, { failed: [], blocked: [], abandoned: [] });
    assert.deepEqual(runner.log.filter((line) => line.startsWith('up ')).sort(), ['up base-step', 'up x', 'up y']);
    assert.equal(rc.state('unrelated'), 'down');
  });

  it('keeps the first start and first up of a service: brought up again later, its boot timing stays', async () => {
    const runner = new FakeRunner(true);
    const { engine: rc } = engine(graph(oneshot('init-config')), runner);
    await rc.bringUp(['init-config'], never);
    const first = rc.timing('init-config');
    assert.notEqual(first.startedAt, null);
    await rc.bringDown(['init-config']);
    await rc.bringUp(['init-config'], never);
    assert.equal(rc.state('init-config'), 'up');
    assert.deepEqual(rc.timing('init-config'), first);
  });

  it('a failure blocks only what depends on it, directly or not; the rest starts', async () => {
    const runner = new FakeRunner(true);
    runner.preset('up init-broken', { ok: false, reason: 'command exited 1' });
    const { engine: rc, events } = engine(
      graph(
        oneshot('init-broken'),
        longrun('svc-needs-broken', ['init-broken']),
        longrun('svc-transitive', ['svc-needs-broken']),
        oneshot('init-fine'),
        longrun('svc-fine', ['init-fine']),
      ),
      runner,
    );
    const outcome = await rc.bringUp(['svc-transitive', 'svc-fine'], never);
    assert.deepEqual(outcome.failed, ['init-broken']);
    assert.deepEqual([...outcome.blocked].sort(), ['svc-needs-broken', 'svc-transitive']);
    assert.deepEqual(outcome.abandoned, []);
    assert.equal(rc.state('svc-fine'), 'up');
    assert.ok(!runner.log.includes('up svc-needs-broken') && !runner.log.includes('up svc-transitive'), runner.log.join(', '));
    assert.ok(events.lines.includes('failed init-broken: command exited 1'));
    assert.ok(events.lines.includes('blocked svc-needs-broken: it depends on init-broken, which failed to start'));
    assert.ok(events.lines.includes('blocked svc-transitive: it depends on svc-needs-broken, which did not start'));
  });

  it('starts nothing more once aborted, and reports what was left as abandoned', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(graph(oneshot('slow'), oneshot('after', ['slow'])), runner);
    const abort = new AbortController();
    const done = rc.bringUp(['after'], abort.signal);
    await settle();
    abort.abort('shutdown');
    runner.finish('up slow');
    const outcome = await done;
    assert.deepEqual(outcome.abandoned, ['after']);
    assert.ok(!runner.log.includes('up after'));
  });

  it('a second bring-up that needs a start the first has under way waits for it, instead of running it again', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(graph(oneshot('init'), longrun('app', ['init']), longrun('extra', ['init'])), runner);
    const boot = rc.bringUp(['app'], never);
    await settle();
    assert.deepEqual(runner.inProgress, ['up init']);
    // A change during the boot: extra needs init, which the boot is running.
    const change = rc.bringUp(['extra'], never);
    await settle();
    assert.deepEqual(runner.inProgress, ['up init'], 'init must not run a second time');
    runner.finish('up init');
    await settle();
    assert.deepEqual(runner.inProgress, ['up app', 'up extra']);
    runner.finish('up app');
    runner.finish('up extra');
    assert.deepEqual(await boot, { failed: [], blocked: [], abandoned: [] });
    assert.deepEqual(await change, { failed: [], blocked: [], abandoned: [] });
    assert.equal(runner.log.filter((entry) => entry === 'up init').length, 1, runner.log.join(', '));
  });

  it("a start joined from another bring-up that fails or is abandoned there is tried again by the one still running, as s6-rc's next change would", async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(graph(oneshot('init'), longrun('extra', ['init'])), runner);
    const boot = new AbortController();
    const first = rc.bringUp(['init'], boot.signal);
    await settle();
    const change = rc.bringUp(['extra'], never);
    await settle();
    // The boot's attempt fails (its time limit, or the script itself): the change runs init again.
    boot.abort('time limit');
    runner.finish('up init', { ok: false, reason: 'command exited 1' });
    await first;
    await settle();
    assert.deepEqual(runner.inProgress, ['up init'], runner.log.join(', '));
    runner.finish('up init');
    await settle();
    runner.finish('up extra');
    assert.deepEqual(await change, { failed: [], blocked: [], abandoned: [] });
    assert.equal(runner.log.filter((entry) => entry === 'up init').length, 2, runner.log.join(', '));
  });

  it('tells an observer of every transition while it watches, as the events are told', async () => {
    const runner = new FakeRunner(true);
    const { engine: rc, events } = engine(graph(longrun('a'), longrun('b', ['a'])), runner);
    const seen: string[] = [];
    const stop = rc.observe({ starting: (atomic) => seen.push(`starting ${atomic.name}`), started: (atomic) => seen.push(`started ${atomic.name}`) });
    await rc.bringUp(['b'], never);
    stop();
    await rc.bringDown(['a']);
    assert.deepEqual(seen, ['starting a', 'started a', 'starting b', 'started b']);
    assert.ok(events.lines.includes('stopped a'), "the engine's own events go on");
  });

  it("waits for the runner's turn before a start; one the runner abandons meanwhile is left without a word", async () => {
    const runner = new FakeRunner(true);
    const waiting: ((go: boolean) => void)[] = [];
    // Turns handed out by the test: one start at a time.
    const withTurns: TransitionRunner = {
      up: (atomic) => runner.up(atomic),
      down: (atomic) => runner.down(atomic),
      turn: () => new Promise((resolve) => waiting.push(resolve)),
    };
    const { engine: rc, events } = engine(graph(longrun('a'), longrun('b'), longrun('c')), withTurns);
    const abort = new AbortController();
    const done = rc.bringUp(['a', 'b', 'c'], abort.signal);
    await settle();
    assert.equal(runner.log.length, 0, 'nothing starts before its turn');
    assert.deepEqual(events.lines, []);
    waiting.shift()?.(true);
    await settle();
    assert.deepEqual(events.lines, ['starting a', 'started a']);
    // The bring-up's time limit runs out: a start already due still goes ahead, as s6-rc launched it.
    abort.abort('time limit');
    waiting.shift()?.(true);
    // The container stops: the runner abandons the last one.
    waiting.shift()?.(false);
    const outcome = await done;
    assert.deepEqual(outcome.abandoned, ['c']);
    assert.ok(runner.log.includes('up b') && !runner.log.includes('up c'), runner.log.join(', '));
    assert.deepEqual(events.lines, ['starting a', 'started a', 'starting b', 'started b'], 'no line for a start that never began');
  });
});

describe('Engine.bringUp with stopStarting', () => {
  it('starts nothing more once it is aborted, and lets what is under way finish', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(graph(longrun('slow'), oneshot('after', ['slow']), oneshot('alone')), runner);
    const stopStarting = new AbortController();
    const up = rc.bringUp(['after', 'alone'], never, stopStarting.signal);
    await settle();
    assert.deepEqual(runner.inProgress, ['up alone', 'up slow']);
    // The client's time ran out: what is under way goes on, nothing new starts.
    stopStarting.abort();
    runner.finish('up slow');
    runner.finish('up alone');
    const outcome = await up;
    assert.equal(rc.state('slow'), 'up');
    assert.equal(rc.state('alone'), 'up');
    assert.equal(rc.state('after'), 'down');
    assert.deepEqual(outcome.abandoned, ['after']);
    assert.ok(!runner.log.includes('up after'), runner.log.join(', '));
  });
});

describe('Engine.bringDown', () => {
  /** a <- b <- c (c needs b needs a), and d needs a too; e stands alone. */
  const chain = (options: { essential?: string[] } = {}): CompiledGraph => {
    const essential = (name: string): Partial<RcOneshot> => (options.essential?.includes(name) === true ? { essential: true } : {});
    return graph(
      oneshot('a', [], essential('a')),
      longrun('b', ['a'], options.essential?.includes('b') === true ? { essential: true } : {}),
      oneshot('c', ['b'], essential('c')),
      oneshot('d', ['a'], essential('d')),
      oneshot('e', [], essential('e')),
    );
  };

  async function upAll(rc: Engine, runner: FakeRunner): Promise<void> {
    const up = rc.bringUp(['c', 'd', 'e'], never);
    for (;;) {
      await settle();
      const pending = runner.inProgress.filter((key) => key.startsWith('up '));
      if (pending.length === 0) break;
      for (const key of pending) runner.finish(key);
    }
    assert.deepEqual(await up, { failed: [], blocked: [], abandoned: [] });
    runner.log.length = 0;
  }

  it('is the reverse: a service stops only after everything that needs it has stopped', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(chain(), runner);
    await upAll(rc, runner);
    const down = rc.bringDown();
    await settle();
    // Nothing needs c, d or e: they stop together. b waits for c, a for b and d.
    assert.deepEqual(runner.inProgress, ['down c', 'down d', 'down e']);
    runner.finish('down c');
    await settle();
    assert.deepEqual(runner.inProgress, ['down b', 'down d', 'down e']);
    runner.finish('down b');
    await settle();
    assert.deepEqual(runner.inProgress, ['down d', 'down e'], 'a began to stop while d, which needs it, was still up');
    runner.finish('down d');
    await settle();
    assert.deepEqual(runner.inProgress, ['down a', 'down e']);
    runner.finish('down a');
    runner.finish('down e');
    await down;
    for (const name of ['a', 'b', 'c', 'd', 'e']) assert.equal(rc.state(name), 'down', name);
  });

  it('a second way down waits for a down transition under way, and what the service needs stops only after it (a change, then the container stop)', async () => {
    const runner = new FakeRunner();
    const { engine: rc } = engine(chain(), runner);
    await upAll(rc, runner);
    const change = rc.bringDown(['c']);
    await settle();
    assert.deepEqual(runner.inProgress, ['down c']);
    // The container's stop comes while c drains: c is not taken for down, b waits for it.
    let stopDone = false;
    const stop = rc.bringDown().then(() => {
      stopDone = true;
    });
    await settle();
    assert.deepEqual(runner.inProgress, ['down c', 'down d', 'down e'], 'b began to stop while c, which needs it, was still stopping');
    assert.equal(runner.log.filter((line) => line === 'down c').length, 1, 'c was asked to stop twice');
    runner.finish('down c');
    await change;
    await settle();
    assert.deepEqual(runner.inProgress, ['down b', 'down d', 'down e']);
    for (const key of ['down b', 'down d', 'down e']) runner.finish(key);
    await settle();
    runner.finish('down a');
    await stop;
    assert.ok(stopDone);
    for (const name of ['a', 'b', 'c', 'd', 'e']) assert.equal(rc.state(name), 'down', name);
  });

  it('leaves essential services up, and what they need with them, as s6-rc -da does; the ones that need them still stop first', async () => {
    const runner = new FakeRunner(true);
    const { engine: rc, events } = engine(chain({ essential: ['b'] }), runner);
    await upAll(rc, runner);
    await rc.bringDown();
    assert.ok(!runner.log.includes('down b'), runner.log.join(', '));
    assert.equal(rc.state('b'), 'up');
    // c (which needs b) stopped, and d and e; a, which b needs, stays with it.
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')).sort(), ['down c', 'down d', 'down e']);
    assert.equal(rc.state('a'), 'up');
    assert.ok(!events.lines.includes('stopping b'));
    assert.ok(events.lines.includes('kept b: it is marked as essential (flag-essential)'), events.lines.join('\n'));
    assert.ok(events.lines.includes('kept a: b, which needs it, is kept up as essential'), events.lines.join('\n'));
  });

  it('in a change, leaves what an essential service needs up with it; -D stops both', async () => {
    const runner = new FakeRunner(true);
    const { engine: rc } = engine(chain({ essential: ['b'] }), runner);
    await upAll(rc, runner);
    await rc.bringDown(['a'], { keepEssential: true });
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')).sort(), ['down c', 'down d']);
    assert.deepEqual(['a', 'b'].map((name) => rc.state(name)), ['up', 'up']);
    runner.log.length = 0;
    await rc.bringDown(['a']);
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')), ['down b', 'down a']);
  });

  it('does not undo a oneshot that never came up, but stops a longrun whose start failed', async () => {
    const runner = new FakeRunner(true);
    runner.preset('up shot', { ok: false, reason: 'command exited 1' });
    runner.preset('up daemon', { ok: false, reason: 'it was not ready after 100 ms (timeout-up)' });
    const { engine: rc } = engine(graph(oneshot('shot'), longrun('daemon'), oneshot('never', ['shot'])), runner);
    await rc.bringUp(['shot', 'daemon', 'never'], never);
    runner.log.length = 0;
    await rc.bringDown();
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')), ['down daemon']);
  });

  it('runs the down of a oneshot cut short when it asks for it (the cont-init stage does)', async () => {
    const runner = new FakeRunner(true);
    runner.preset('up stage', { ok: false, reason: 'aborted' });
    const { engine: rc } = engine(graph(oneshot('stage', [], { downAfterPartialUp: true })), runner);
    await rc.bringUp(['stage'], never);
    runner.log.length = 0;
    await rc.bringDown();
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')), ['down stage']);
  });

  it('reports a down that did not go well, and goes on with the rest', async () => {
    const runner = new FakeRunner(true);
    runner.preset('down b', { ok: false, reason: 'still running after 3000 ms (S6_SERVICES_GRACETIME)' });
    const { engine: rc, events } = engine(chain(), runner);
    await upAll(rc, runner);
    await rc.bringDown();
    assert.ok(events.lines.includes('stopped b: still running after 3000 ms (S6_SERVICES_GRACETIME)'));
    assert.ok(runner.log.includes('down a'));
    // It still runs: the engine does not call it down.
    assert.equal(rc.state('b'), 'up');
    assert.equal(rc.state('a'), 'down');
  });

  it('in a change, leaves up what did not stop and what it needs, and stops the rest (s6-rc -d)', async () => {
    const runner = new FakeRunner(true);
    runner.preset('down b', { ok: false, reason: 'the kernel refused SIGTERM' });
    const { engine: rc, events } = engine(chain(), runner);
    await upAll(rc, runner);
    await rc.bringDown(['a']);
    // c and d stopped; b did not, so a, which b needs, was not asked to.
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')).sort(), ['down b', 'down c', 'down d']);
    assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((name) => rc.state(name)), ['up', 'up', 'down', 'down', 'up']);
    assert.ok(events.lines.includes('kept a: b, which needs it, did not stop'), events.lines.join('\n'));
    // A later change tries again, as running the same s6-rc change again would.
    runner.preset('down b', { ok: true });
    runner.log.length = 0;
    await rc.bringDown(['a']);
    assert.deepEqual(runner.log.filter((line) => line.startsWith('down ')), ['down b', 'down a']);
    assert.equal(rc.state('a'), 'down');
  });

  it('counts a oneshot whose down failed as up, so that the next way down runs it again', async () => {
    const runner = new FakeRunner(true);
    runner.preset('down e', { ok: false, reason: 'command exited 1' });
    const { engine: rc } = engine(chain(), runner);
    await upAll(rc, runner);
    await rc.bringDown(['e']);
    assert.equal(rc.state('e'), 'up');
    runner.preset('down e', { ok: true });
    await rc.bringDown();
    assert.equal(rc.state('e'), 'down');
    assert.equal(runner.log.filter((line) => line === 'down e').length, 2);
  });
});
