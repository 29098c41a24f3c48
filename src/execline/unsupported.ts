/**
 * execline commands Steward's execlineb does not run: rare in service scripts, and each
 * needs machinery of its own (globbing, option parsing, signal traps). An image that
 * has the real program in PATH gets it; otherwise the error names the command.
 */
export const UNSUPPORTED_COMMANDS: ReadonlySet<string> = new Set([
  'elglob', 'elgetopt', 'elgetpositionals', 'forstdin', 'forbacktickx', 'loopwhilex', 'trap', 'wait', 'case', 'runblock',
  'shift', 'dollarat', 'withstdinas', 'multidefine', 'tryexec', 'piperw', 'fdreserve', 'fdblock', 's6-envuidgid', 's6-applyuidgid',
]);
