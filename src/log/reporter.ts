import { errorMessage } from '../errors.js';
import { writeOwnLine } from '../sys/stdio.js';
import type { Diagnostic } from '../diagnostic.js';

/**
 * Steward's own lines, on stderr, each "<stage>: <level>: <message>", so they are
 * easy to tell from service output and to grep. S6_VERBOSITY picks how many appear:
 * 0 errors, 1 and warnings, 2 and info (default), 3 and debug.
 */
export class Reporter {
  constructor(
    readonly verbosity: number,
    private write: (text: string) => void = writeOwnLine,
  ) {}

  /** Sends the lines elsewhere from now on (the catch-all log, with S6_LOGGING). */
  redirect(write: (text: string) => void): void {
    this.write = write;
  }

  error(stage: string, message: string): void {
    this.write(`${stage}: error: ${message}\n`);
  }

  warn(stage: string, message: string): void {
    if (this.verbosity >= 1) this.write(`${stage}: warning: ${message}\n`);
  }

  info(stage: string, message: string): void {
    if (this.verbosity >= 2) this.write(`${stage}: info: ${message}\n`);
  }

  /** A line as another tool printed it, at the info level: what scripts and users wait for. */
  verbatim(line: string): void {
    if (this.verbosity >= 2) this.write(`${line}\n`);
  }

  debug(stage: string, message: string): void {
    if (this.verbosity >= 3) this.write(`${stage}: debug: ${message}\n`);
  }

  diagnostics(stage: string, diagnostics: readonly Diagnostic[]): void {
    for (const diagnostic of diagnostics) {
      const text = errorMessage(diagnostic.error);
      if (diagnostic.severity === 'error') this.error(stage, text);
      else if (diagnostic.mayChangeAtBoot === true) this.debug(stage, text);
      else this.warn(stage, text);
    }
  }
}
