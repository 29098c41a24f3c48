import type { NotReadyReason } from '../../control/readiness.js';
import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions, refuseWords } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { writeErr, writeOut } from '../output.js';

/**
 * The container's readiness as /readyz answers it, for exec probes and Docker's HEALTHCHECK
 * where no HTTP is served. Not `wait --ready`, which returns as soon as a service is ready
 * once: between two deaths of a crash loop, say.
 */
export const readyCommand: Command = {
  name: 'ready',
  usage: 'ready',
  summary: 'exit 0 if the container is ready, as /readyz says (exec probes, HEALTHCHECK)',
  help: [
    'Exits 0 and prints "ready" when the boot is over, no start failed and every service that should be up',
    'is up (ready, with readiness); a service that died on its own counts again once it has stayed up',
    '2 seconds, so a crash loop is not ready. Otherwise exits 1 and prints each reason on stderr.',
  ].join('\n'),
  async run(args) {
    const { positional } = parseOptions('ready', args, {});
    refuseWords('ready', positional, 'steward ready looks at every service; steward wait --ready NAME waits for some');
    const call = await callSteward('ready', { cmd: 'ready' });
    if (!call.ok) return call.exitCode;
    const { ready, reasons } = call.result as { ready: boolean; reasons: NotReadyReason[] };
    if (ready) {
      writeOut('ready\n');
      return EXIT.ok;
    }
    for (const { name, reason } of reasons) writeErr(`steward ready: ${name === '*' ? '' : `${name}: `}${reason}\n`);
    return EXIT.failed;
  },
};
