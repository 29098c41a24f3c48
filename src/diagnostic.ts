import type { StewardError } from './errors.js';

/** A problem found while reading a source. Errors stop that item; warnings do not. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly error: StewardError;
  /**
   * 'service': an error that stops only its own service (a script the kernel cannot run), as
   * under s6-rc, where it fails when it starts; the graph and every other service go on.
   */
  readonly scope?: 'service';
  /**
   * A warning about what the boot may still change before it matters (a script an earlier
   * oneshot makes executable, as hotio's init-perms does): steward check says it; the boot does
   * not, as the start's own error says it if it is still so then.
   */
  readonly mayChangeAtBoot?: true;
}

/** The same problems, each marked as stopping only its own service. */
export function serviceScoped(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.map((diagnostic) => ({ ...diagnostic, scope: 'service' }));
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
