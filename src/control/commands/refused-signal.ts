import type { ServiceSupervisor } from '../../supervise/supervisor.js';
import { SIGNAL_PERMISSION_HINT, trySignal } from '../../sys/signals.js';
import { failure, type Response } from '../protocol.js';

/**
 * A signal the kernel would refuse (EPERM: Steward without the KILL capability, the service
 * running as another user), said before anything changes, rather than a stop that never comes
 * or a signal said to have found nothing running.
 */
export function refusedSignal(supervisors: readonly ServiceSupervisor[]): Response | undefined {
  for (const supervisor of supervisors) {
    const pid = supervisor.status.pid;
    if (pid === null || trySignal(pid, 0) !== 'refused') continue;
    return failure('ERR_PERMISSION', `not permitted to signal ${supervisor.name} (pid ${pid}): the kernel refused (EPERM), so nothing was changed`, {
      hint: SIGNAL_PERMISSION_HINT,
      names: [supervisor.name],
    });
  }
  return undefined;
}
