import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseOptions } from '../../src/cli/command.js';

describe('command-line options', () => {
  it('reads flags and values in any order, with --name=value too', () => {
    const { flags, values, positional } = parseOptions('start', ['web', '--timeout', '500', '--no-wait', 'db', '--etc=/x'], { flags: ['no-wait'], values: ['timeout', 'etc'] });
    assert.deepEqual([...flags], ['no-wait']);
    assert.deepEqual(Object.fromEntries(values), { timeout: '500', etc: '/x' });
    assert.deepEqual(positional, ['web', 'db']);
  });

  it('takes everything after -- as names, so a service named -dash or --odd can be given', () => {
    const { positional } = parseOptions('stop', ['web', '--', '-dash', '--odd'], { flags: ['no-wait'] });
    assert.deepEqual(positional, ['web', '-dash', '--odd']);
  });

  it('refuses an unknown option, naming the command', () => {
    assert.throws(() => parseOptions('stop', ['--bogus'], {}), /steward stop: unknown option --bogus/);
    assert.throws(() => parseOptions('wait', ['--timeout'], { values: ['timeout'] }), /steward wait: --timeout needs a value/);
  });
});
