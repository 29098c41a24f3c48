import type { StewardError } from '../errors.js';

/** A problem found while reading a source. Errors stop that item; warnings do not. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly error: StewardError;
  /**
   * 'service': an error that stops only its own service (a script the kernel cannot run), as
   * under s6-rc, where it fails when it starts; the graph and every other service go on.
   */
  readonly scope?: 'service';
}

/** The same problems, each marked as stopping only its own service. */
export function serviceScoped(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.map((diagnostic) => ({ ...diagnostic, scope: 'service' }));
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
