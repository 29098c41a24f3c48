import { StewardError } from '../../errors.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';
import { parseTimeout } from './lifecycle.js';
import { underStewardInit } from '../../sys/proc.js';

export const waitCommand: Command = {
  name: 'wait',
  usage: 'wait --up|--ready|--down NAME... [--timeout MS]',
  summary: 'wait until services are up, ready or down',
  help: 'Exits 0 once every named service is in that state, 4 on timeout (default: wait forever), 1 if one failed for good.',
  async run(args) {
    const { flags, values, positional } = parseOptions('wait', args, { flags: ['up', 'ready', 'down'], values: ['timeout'] });
    const conditions = ['up', 'ready', 'down'].filter((condition) => flags.has(condition));
    if (conditions.length !== 1 || positional.length === 0) throw new StewardError('ERR_USAGE', 'steward wait: give exactly one of --up, --ready, --down and at least one service');
    const call = await callSteward('wait', { cmd: 'wait', names: positional, condition: conditions[0], timeoutMs: parseTimeout('wait', values.get('timeout'), 0), ownProcess: underStewardInit() });
    return call.ok ? 0 : call.exitCode;
  },
};
