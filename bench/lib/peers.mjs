// The two supervisors compared. Each peer gives the argv of its PID 1 (run
// by unshare) and its environment, from the layout written by layout.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STEWARD_INIT = path.join(REPO, 'bin', 'steward-init');
export const STEWARD_BUNDLE = path.join(REPO, 'dist', 'steward-init.cjs');

/**
 * Node's own settings from the environment (NODE_OPTIONS, NODE_EXTRA_CA_CERTS,
 * ...) belong to the host the bench runs on, not to the container it stands
 * for, and they can change every Node start-up a lot: with
 * NODE_EXTRA_CA_CERTS naming a bundle of 144 certificates, Node 20 parses
 * them all before running any code, which took `node -e 0` from about 35 to
 * about 110 ms on the machine of docs/benchmarks.md. So they are dropped from
 * the environment of everything the bench times, unless --keep-node-env.
 */
let keepNodeEnv = false;

export function setKeepNodeEnv(keep) {
  keepNodeEnv = keep;
}

/** The host's NODE_* variables that baseEnv() leaves out (none with --keep-node-env). */
export function droppedNodeVariables() {
  return keepNodeEnv ? [] : Object.keys(process.env).filter((key) => key.startsWith('NODE_')).sort();
}

/**
 * Base environment for both peers and the commands timed: the harness's own,
 * minus Steward's settings (so "default" really means the default) and, see
 * above, Node's; with this Node first on PATH because bin/steward-init starts
 * with `#!/usr/bin/env node`.
 */
export function baseEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('STEWARD_') || key.startsWith('S6_')) delete env[key];
  }
  for (const key of droppedNodeVariables()) delete env[key];
  env.PATH = `${path.dirname(process.execPath)}:${env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
  return env;
}

/** Debian's s6: s6-svscan scanning the services.d directory itself. */
export const s6 = {
  id: 's6',
  argv: (layout) => ['s6-svscan', layout.services],
  env: () => baseEnv(),
};

/**
 * Steward reading the s6-overlay legacy layout. S6_VERBOSITY=1 keeps it quiet
 * so logging does not skew timings; throttleMs, when given, sets the minimum
 * interval between two starts of a service (Steward's default is 1000 ms).
 */
export const steward = {
  id: 'steward',
  argv: () => [STEWARD_INIT],
  env: (layout, { throttleMs } = {}) => ({
    ...baseEnv(),
    STEWARD_ETC: layout.etc,
    STEWARD_RUN: layout.run,
    S6_VERBOSITY: '1',
    ...(throttleMs === undefined ? {} : { STEWARD_RESTART_THROTTLE: String(throttleMs) }),
  }),
};

/** Why Steward cannot run yet, or null if its entry point and bundle are in place. */
export function stewardMissing() {
  try {
    fs.accessSync(STEWARD_INIT, fs.constants.X_OK);
  } catch {
    return `${path.relative(REPO, STEWARD_INIT)} is missing or not executable`;
  }
  if (!fs.existsSync(STEWARD_BUNDLE)) {
    return `${path.relative(REPO, STEWARD_BUNDLE)} is missing (run \`npm run build\`)`;
  }
  return null;
}
