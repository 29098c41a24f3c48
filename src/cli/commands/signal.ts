import { StewardError } from '../../errors.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';

export const signalCommand: Command = {
  name: 'signal',
  usage: 'signal SIGNAL NAME... [--group]',
  summary: 'send a signal to services (for example HUP to reload)',
  help: 'SIGNAL is a name (HUP, SIGHUP) or a number. --group sends it to the whole process group of each service.',
  async run(args) {
    const { flags, positional } = parseOptions('signal', args, { flags: ['group'] });
    const [signal, ...names] = positional;
    if (signal === undefined || names.length === 0) throw new StewardError('ERR_USAGE', 'steward signal: give a signal and at least one service, for example: steward signal HUP nginx');
    const call = await callSteward('signal', { cmd: 'signal', signal, names, group: flags.has('group') });
    return call.ok ? 0 : call.exitCode;
  },
};
