import { statSync } from 'node:fs';

import { inspectExecutable } from '../config/executable.js';
import { errorMessage } from '../errors.js';

/**
 * Why `path` could not be executed, in words a person can act on. The kernel says ENOENT both
 * for a missing file and for a missing interpreter (`#!/usr/bin/with-contenv` in an image
 * without it), and ENOEXEC or EACCES for several causes: the file itself tells which.
 * `role` names it in the message ("run script", "cont-init script"...).
 */
export function whyNotExecutable(path: string, error: NodeJS.ErrnoException, role: string): string {
  const shortage = resourceShortage(error);
  if (shortage !== undefined) return shortage;
  const found = inspectExecutable(path, role).find((diagnostic) => diagnostic.error.message !== '');
  if (found === undefined) {
    // The file is fine: what the start opens for it is not (stdin is /dev/null).
    if (error.code === 'ENOENT' && !isCharacterDevice('/dev/null')) return `/dev/null is missing or is not a device (ENOENT), and every process Steward starts gets it as its input. Give the container a /dev (the runtime mounts one)`;
    return errorMessage(error);
  }
  const { message, hint } = found.error;
  // The inspection may have met the same failure and named its code already.
  const code = error.code === undefined || message.includes(error.code) ? '' : ` (${error.code})`;
  return `${message}${code}${hint === undefined ? '' : `. ${hint}`}`;
}

/** What a start refused for want of resources says, rather than blaming the file. */
const SHORTAGES: Readonly<Record<string, string>> = {
  EAGAIN: 'the system refused a new process (EAGAIN): a limit on processes is reached (docker run --pids-limit, the pod\'s pids limit, or ulimit -u for its user); nothing is wrong with the file',
  EMFILE: 'Steward is out of file descriptors (EMFILE): raise the limit (ulimit -n, docker run --ulimit nofile=...); nothing is wrong with the file',
  ENFILE: 'the system is out of file descriptors (ENFILE); nothing is wrong with the file',
  ENOMEM: 'there was not memory enough to start it (ENOMEM): a memory limit is reached; nothing is wrong with the file',
};

/** The words for a start that failed for want of resources (processes, descriptors, memory); undefined for any other failure. */
export function resourceShortage(error: NodeJS.ErrnoException): string | undefined {
  return error.code === undefined ? undefined : SHORTAGES[error.code];
}

function isCharacterDevice(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isCharacterDevice() === true;
}

/** Tries at starting the CMD when the system lacks the resources for it (a process limit reached for a moment), the first included. */
const COMMAND_START_TRIES = 6;
/** The wait before the second try; doubled for each further one (about 8 s in all), as a shell's fork retries back off. */
const COMMAND_RETRY_FIRST_DELAY_MS = 250;

/**
 * How long to wait before trying the CMD's start again after its try number `tries` failed;
 * undefined when it is not to be tried again: a failure that another try would meet as well
 * (a missing file), or the tries used up. Services are tried again every 10 seconds for ever;
 * the CMD, whose failure ends the container, for a few seconds.
 */
export function commandRetryDelay(error: NodeJS.ErrnoException, tries: number): number | undefined {
  if (resourceShortage(error) === undefined || tries >= COMMAND_START_TRIES) return undefined;
  return COMMAND_RETRY_FIRST_DELAY_MS * 2 ** (tries - 1);
}
