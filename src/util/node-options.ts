/**
 * The container's NODE_OPTIONS is meant for the application's Node, not for Steward's: an
 * --inspect or a --require of an APM agent in Steward's own processes would stop them or run
 * the agent there. Steward's launchers (bin/) start Node with it set aside under this name,
 * and the loader puts it back for what Steward runs; a Node process of Steward's that Steward
 * starts itself gets it set aside the same way.
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
