import type { HaltAction } from '../../control/protocol.js';
import { StewardError } from '../../errors.js';
import { callSteward, outliveTheShutdown } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';

function haltCommand(action: HaltAction): Command {
  return {
    name: action,
    usage: `${action} [--exit-code N]`,
    summary: action === 'halt' ? 'stop the container (all three stop it, as in s6-overlay)' : 'stop the container',
    help: 'Runs the normal shutdown. With --exit-code, the container exits with N (written to the exit code file first).',
    async run(args) {
      const { values, positional } = parseOptions(action, args, { values: ['exit-code'] });
      if (positional.length > 0) {
        throw new StewardError('ERR_USAGE', `steward ${action}: unexpected ${JSON.stringify(positional[0])}`, { hint: `The exit code is given as steward ${action} --exit-code N` });
      }
      const text = values.get('exit-code');
      if (text !== undefined && !(/^\d+$/.test(text) && Number(text) <= 255)) throw new StewardError('ERR_USAGE', `steward ${action}: --exit-code takes a number from 0 to 255`);
      const leave = outliveTheShutdown();
      const call = await callSteward(action, { cmd: 'halt', action, exitCode: text === undefined ? null : Number(text), requester: process.pid });
      return leave(call.ok ? 0 : call.exitCode);
    },
  };
}

export const haltCommands = [haltCommand('halt'), haltCommand('poweroff'), haltCommand('reboot')];
