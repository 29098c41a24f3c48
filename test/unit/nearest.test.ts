import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { editDistance, nearest } from '../../src/util/nearest.js';

describe('nearest: "did you mean" suggestions', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    assert.equal(editDistance('nginx', 'nginx'), 0);
    assert.equal(editDistance('ngnx', 'nginx'), 1);
    assert.equal(editDistance('nginxx', 'nginx'), 1);
    assert.equal(editDistance('ngimx', 'nginx'), 1);
    assert.equal(editDistance('nignx', 'nginx'), 1);
    assert.equal(editDistance('php-pfm', 'php-fpm'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', 'xyz'), 3);
  });

  it('suggests the closest known name, including a transposition, and nothing for an unrelated name', () => {
    const known = ['nginx', 'php-fpm', 'init-config', 'svc-worker'];
    assert.equal(nearest('nignx', known), 'nginx');
    assert.equal(nearest('php-pfm', known), 'php-fpm');
    assert.equal(nearest('svc-wokrer', known), 'svc-worker');
    assert.equal(nearest('postgres', known), undefined);
  });
});
