/**
 * The container's NODE_OPTIONS is meant for the application's Node, not for Steward's: an
 * --inspect or a --require of an APM agent in Steward's own processes would stop them or run
 * the agent there. Steward's Node processes run without it, and it is kept aside under this
 * name until Steward puts it back for what it runs.
 */
export const SET_ASIDE_NODE_OPTIONS = 'STEWARD_NODE_OPTIONS';

/** A copy of an environment for a Node process of Steward's: NODE_OPTIONS set aside. */
export function withNodeOptionsAside<Env extends Record<string, string | undefined>>(env: Env): Env {
  const options = env['NODE_OPTIONS'];
  if (options === undefined) return env;
  const copy: Record<string, string | undefined> = { ...env, [SET_ASIDE_NODE_OPTIONS]: options };
  delete copy['NODE_OPTIONS'];
  return copy as Env;
}

/**
 * This process was started with NODE_OPTIONS set aside (by a launcher in bin/, or by PID 1
 * starting itself again): it is put back in process.env, for what Steward runs. Returns
 * whether it was.
 */
export function takeNodeOptionsBack(): boolean {
  const saved = process.env[SET_ASIDE_NODE_OPTIONS];
  if (saved === undefined) return false;
  process.env['NODE_OPTIONS'] = saved;
  delete process.env[SET_ASIDE_NODE_OPTIONS];
  return true;
}
