/**
 * The one domain error. Callers branch on `code`, never on the class or the message.
 * Every code is listed in docs/errors.md with what the user should do.
 */
export type StewardErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_SCRIPT'
  | 'ERR_SETTING'
  | 'ERR_FIX_ATTRS'
  | 'ERR_RUNTIME_DIR'
  | 'ERR_USAGE'
  | 'ERR_CONTROL_UNAVAILABLE'
  | 'ERR_PERMISSION'
  | 'ERR_INTERNAL';

export interface StewardErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The file the problem is in, when there is one. */
  path?: string;
  /** 1-based line in `path`, when the problem is on one line. */
  line?: number;
  cause?: unknown;
}

export class StewardError extends Error {
  override readonly name = 'StewardError';
  readonly code: StewardErrorCode;
  readonly hint: string | undefined;
  readonly path: string | undefined;
  readonly line: number | undefined;

  constructor(code: StewardErrorCode, message: string, options: StewardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
    this.line = options.line;
  }

  /** One line for a person: "path:line: message (hint)". */
  describe(): string {
    const where = this.path === undefined ? '' : this.line === undefined ? `${this.path}: ` : `${this.path}:${this.line}: `;
    return `${where}${this.message}${this.hint === undefined ? '' : `. ${this.hint}`}`;
  }
}

/** Node system errors carry a string `code` such as ENOENT; this narrows to them. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof StewardError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}
