import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { changePlan, complementOf, selectionOf, transitionWaves } from '../../src/graph/rc-selection.js';
import { bundle, graph, oneshot } from '../helpers/rc-graph.js';

// db <- app <- web, and cron on its own; the bundle holds web.
const tree = graph(oneshot('db'), oneshot('app', ['db']), oneshot('web', ['app']), oneshot('cron'), bundle('front', ['web']));
const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe("s6-rc's selection", () => {
  it('-a adds the services that are up; -d list prints every other service', () => {
    const up = new Set(['db', 'cron']);
    assert.deepEqual(sorted(selectionOf(tree, ['front'], true, (name) => up.has(name))), ['cron', 'db', 'web']);
    assert.deepEqual(sorted(selectionOf(tree, [], false, (name) => up.has(name))), []);
    assert.deepEqual(sorted(complementOf(tree, selectionOf(tree, [], true, (name) => up.has(name)))), ['app', 'web']);
    assert.deepEqual(sorted(complementOf(tree, new Set(['app']))), ['cron', 'db', 'web']);
  });

  it('change without -p acts on the closed selection only', () => {
    const up = changePlan(tree, new Set(['web']), 'up', false);
    assert.deepEqual([sorted(up.down), sorted(up.up)], [[], ['app', 'db', 'web']]);
    const down = changePlan(tree, new Set(['db']), 'down', false);
    assert.deepEqual([sorted(down.down), sorted(down.up)], [['app', 'db', 'web'], []]);
  });

  it('-pu brings down everything outside the closed selection; -pd brings up everything outside it', () => {
    const pruneUp = changePlan(tree, new Set(['app']), 'up', true);
    assert.deepEqual([sorted(pruneUp.down), sorted(pruneUp.up)], [['cron', 'web'], ['app', 'db']]);
    const pruneDown = changePlan(tree, new Set(['app']), 'down', true);
    assert.deepEqual([sorted(pruneDown.down), sorted(pruneDown.up)], [['app', 'web'], ['cron', 'db']]);
  });

  it('orders transitions in waves, dependencies first going up and dependents first going down, skipping what is there', () => {
    const all = new Set(['db', 'app', 'web', 'cron']);
    assert.deepEqual(transitionWaves(tree, all, 'up', () => false), [['db', 'cron'], ['app'], ['web']]);
    assert.deepEqual(transitionWaves(tree, all, 'down', () => false), [['web', 'cron'], ['app'], ['db']]);
    assert.deepEqual(transitionWaves(tree, all, 'up', (name) => name === 'db'), [['app', 'cron'], ['web']]);
  });
});
