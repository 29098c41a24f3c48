import type { ControlErrorCode } from '../control/protocol.js';
import type { StewardErrorCode } from '../errors.js';

/** The exit codes of every steward command, listed in the README. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unknownService: 3,
  timeout: 4,
  unavailable: 5,
  permission: 6,
  stopping: 7,
} as const;

export function exitCodeFor(code: ControlErrorCode | StewardErrorCode): number {
  switch (code) {
    case 'ERR_UNKNOWN_SERVICE':
      return EXIT.unknownService;
    case 'ERR_TIMEOUT':
      return EXIT.timeout;
    case 'ERR_CONTROL_UNAVAILABLE':
      return EXIT.unavailable;
    case 'ERR_PERMISSION':
      return EXIT.permission;
    case 'ERR_SHUTTING_DOWN':
      return EXIT.stopping;
    case 'ERR_USAGE':
    case 'ERR_BAD_REQUEST':
    case 'ERR_BAD_SIGNAL':
      return EXIT.usage;
    default:
      return EXIT.failed;
  }
}
