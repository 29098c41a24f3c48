import { inspectExecutable } from '../config/executable.js';
import { errorMessage } from '../errors.js';

/**
 * Why `path` could not be executed, in words a person can act on. The kernel says ENOENT both
 * for a missing file and for a missing interpreter (`#!/usr/bin/with-contenv` in an image
 * without it), and ENOEXEC or EACCES for several causes: the file itself tells which.
 * `role` names it in the message ("run script", "cont-init script"...).
 */
export function whyNotExecutable(path: string, error: NodeJS.ErrnoException, role: string): string {
  const found = inspectExecutable(path, role).find((diagnostic) => diagnostic.error.message !== '');
  if (found === undefined) return errorMessage(error);
  const { message, hint } = found.error;
  // The inspection may have met the same failure and named its code already.
  const code = error.code === undefined || message.includes(error.code) ? '' : ` (${error.code})`;
  return `${message}${code}${hint === undefined ? '' : `. ${hint}`}`;
}
