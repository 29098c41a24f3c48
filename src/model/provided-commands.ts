import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { EXECLINE_PROGRAMS, OVERLAY_CHAIN_PROGRAMS, S6_CHAIN_PROGRAMS } from './program-names.js';
import { packageRoot } from '../util/package-root.js';

/**
 * The s6 clients of the control socket, the execline interpreter and execline's commands, s6's
 * chain-loading commands (and v2's justc-envdir), the death-tally commands and the timing commands (to the
 * millisecond, whatever `timeout` the image has): all bin/s6-tool, linked under these names.
 */
export const NODE_COMMANDS: readonly string[] = [
  's6-svc', 's6-svstat', 's6-svwait', 's6-svok', 's6-svscanctl', 's6-rc', 's6-svdt', 's6-svdt-clear', 's6-permafailon',
  'execlineb', 's6-maximumtime', 'with-retries', ...EXECLINE_PROGRAMS, ...S6_CHAIN_PROGRAMS, ...OVERLAY_CHAIN_PROGRAMS,
];

/** Every POSIX shell command in the package's shims/ (with-contenv, s6-setuidgid, the s6-portable-utils...). */
export function shellCommands(root = packageRoot()): string[] {
  try {
    return readdirSync(join(root, 'shims'));
  } catch {
    return [];
  }
}

let provided: ReadonlySet<string> | undefined;

/** Every command Steward puts in /command, by name. */
export function providedCommands(): ReadonlySet<string> {
  provided ??= new Set([...shellCommands(), ...NODE_COMMANDS, 'steward']);
  return provided;
}
