import type { Action, WaitCondition } from '../../control/protocol.js';
import { StewardError } from '../../errors.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';

/** Default wait for start, stop, restart and once; --timeout 0 waits forever. */
const DEFAULT_TIMEOUT_MS = 30_000;

function lifecycleCommand(name: string, summary: string, actions: readonly Action[], wait: WaitCondition, waitText: string): Command {
  return {
    name,
    usage: `${name} NAME... [--no-wait] [--timeout MS]`,
    summary,
    help: `Waits until ${waitText} (at most --timeout ms, default ${DEFAULT_TIMEOUT_MS}; 0 waits forever), or returns at once with --no-wait.`,
    async run(args) {
      const { flags, values, positional } = parseOptions(name, args, { flags: ['no-wait'], values: ['timeout'] });
      if (positional.length === 0) throw new StewardError('ERR_USAGE', `steward ${name}: name at least one service`);
      const timeoutMs = parseTimeout(name, values.get('timeout'), DEFAULT_TIMEOUT_MS);
      const call = await callSteward(name, {
        cmd: 'control',
        names: positional,
        actions,
        wait: flags.has('no-wait') ? null : wait,
        timeoutMs,
      });
      if (!call.ok) return call.exitCode;
      return 0;
    },
  };
}

export function parseTimeout(command: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new StewardError('ERR_USAGE', `steward ${command}: --timeout takes a whole number of milliseconds, not ${JSON.stringify(text)}`);
  return Number(text);
}

export const startCommand = lifecycleCommand('start', 'start services and keep them up', ['up'], 'ready', 'they are up (ready, for services with readiness)');
export const stopCommand = lifecycleCommand('stop', 'stop services; they stay down until started', ['down'], 'finished', 'they are down and their finish scripts are done');
export const restartCommand = lifecycleCommand('restart', 'restart services (start them if down)', ['restart-or-start'], 'restarted-ready', 'they run again (and are ready)');
export const onceCommand = lifecycleCommand('once', 'start services once, without restarting them', ['once'], 'up', 'they are up');
