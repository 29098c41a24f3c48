import { StewardError } from '../../errors.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { writeErr } from '../output.js';

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
    if (!call.ok) return call.exitCode;
    // Some got it and some were not running: said, and a failure, as for one name alone.
    const notRunning = (call.result as { notRunning?: unknown } | undefined)?.notRunning;
    if (Array.isArray(notRunning) && notRunning.length > 0) {
      writeErr(`steward signal: not running, so not signalled: ${notRunning.join(', ')}\n`);
      return EXIT.failed;
    }
    return 0;
  },
};
