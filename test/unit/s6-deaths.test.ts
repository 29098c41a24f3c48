import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseStatusList } from '../../src/cli/s6/deaths.js';
import { UsageError } from '../../src/cli/s6/getopt.js';

describe("s6-permafailon's status list", () => {
  it('reads exit codes, intervals and signals by name or number, separated by commas, semicolons or spaces', () => {
    const list = parseStatusList('1,3-5;SIGTERM sigabrt,sig11,KILL');
    assert.deepEqual([...list.codes].sort((a, b) => a - b), [1, 3, 4, 5]);
    assert.deepEqual([...list.signals].sort((a, b) => a - b), [6, 9, 11, 15]);
  });

  it('refuses codes above 255, backwards intervals and unknown signals, as usage errors', () => {
    for (const bad of ['256', '5-3', 'SIGNOPE', '1-300']) assert.throws(() => parseStatusList(bad), UsageError, bad);
  });
});
