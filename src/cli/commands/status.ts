import type { StatusRecord } from '../../control/status.js';
import type { OneshotNode } from '../../control/target.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';
import { statusTable } from '../format.js';
import { writeOut } from '../output.js';

export const statusCommand: Command = {
  name: 'status',
  usage: 'status [NAME...] [--json]',
  summary: 'show every service (or the named ones)',
  help: 'Columns: name, kind, state (down, starting, up, ready, stopping, finishing, backoff, failed), pid, uptime,\nrestarts, last exit, ready, dependencies not yet satisfied. The s6-rc oneshots follow (state up, failed,\nblocked...). --json prints the same data for scripts.',
  async run(args) {
    const { flags, positional } = parseOptions('status', args, { flags: ['json'] });
    const call = await callSteward('status', { cmd: 'status', names: positional });
    if (!call.ok) return call.exitCode;
    const result = call.result as { services: StatusRecord[]; oneshots?: OneshotNode[]; uptimeMs: number; stopping: boolean };
    writeOut(flags.has('json') ? `${JSON.stringify(result, null, 2)}\n` : statusTable(result.services, result.oneshots ?? []));
    return 0;
  },
};
