import { writeSync } from 'node:fs';

/** A fatal message as execline words them: `NAME: fatal: MESSAGE` on stderr. */
export function report(name: string, message: string): void {
  try {
    writeSync(2, `${name}: fatal: ${message}\n`);
  } catch {
    // Nowhere to say it.
  }
}

/** A warning as execline words them: `NAME: warning: MESSAGE` on stderr; the chain goes on. */
export function warn(name: string, message: string): void {
  try {
    writeSync(2, `${name}: warning: ${message}\n`);
  } catch {
    // Nowhere to say it.
  }
}

/** A message with no level, as getopt(3) words its own: `NAME: MESSAGE` on stderr. */
export function say(name: string, message: string): void {
  try {
    writeSync(2, `${name}: ${message}\n`);
  } catch {
    // Nowhere to say it.
  }
}
