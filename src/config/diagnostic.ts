import type { StewardError } from '../errors.js';

/** A problem found while reading a source. Errors stop that item; warnings do not. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly error: StewardError;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
