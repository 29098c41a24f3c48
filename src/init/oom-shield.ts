import type { Settings } from '../config/settings.js';
import { errnoCode, errorMessage } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import { planOomScore } from '../sys/oom-score.js';
import { withOomScoreAdj } from '../sys/oom-score-port.js';
import type { ProcessPort } from '../sys/spawn.js';

const MIB = 1024 * 1024;

/**
 * Every process Steward starts gets an oom_score_adj above PID 1's (see sys/oom-score.ts), so
 * that under a memory limit the kernel's OOM killer takes a service's process, which its
 * supervisor starts again, rather than PID 1, whose death ends the container at once.
 */
export function shieldFromOom(port: ProcessPort, settings: Settings, reporter: Reporter): ProcessPort {
  if (settings.oomScoreAdj.mode === 'off') return port;
  let ownBytes: number;
  try {
    ownBytes = process.memoryUsage.rss();
  } catch (error) {
    // libuv reads it from /proc/self/stat, as the shield writes /proc/PID/oom_score_adj.
    reporter.warn('steward', `cannot read its own memory use (${errnoCode(error) ?? errorMessage(error)}; is /proc mounted?): the processes it starts keep PID 1's oom_score_adj, and under a memory limit the kernel may take PID 1 before them`);
    return port;
  }
  const plan = planOomScore(settings.oomScoreAdj, ownBytes);
  if (plan === undefined) return port;
  const against = plan.limit === undefined ? '' : `, weighed against ${Math.round(plan.limit.bytes / MIB)} MiB (${plan.limit.source})`;
  reporter.debug('steward', `processes Steward starts get oom_score_adj ${plan.value}, ${plan.whileStarting} until they are started (its own: ${plan.own}${against})`);
  const shielded = withOomScoreAdj(port, plan, (code) =>
    reporter.warn(
      'steward',
      `the kernel refuses oom_score_adj ${plan.value} (${code}${plan.value < plan.own ? `: below PID 1's own ${plan.own}, which needs CAP_SYS_RESOURCE` : ''}): the processes Steward starts keep PID 1's value`,
    ),
  );
  if (typeof shielded !== 'string') return shielded;
  reporter.warn('steward', `cannot change its own oom_score_adj (${shielded}): the processes it starts keep PID 1's, and under a memory limit the kernel may take PID 1 before them`);
  return port;
}
