// Kept apart from the interpreter: PID 1 links these names in /command at boot, and the
// interpreter's commands would put all of it into PID 1's bundle.

/**
 * execline's chain-loading commands that images run as programs, outside any script: s6-overlay
 * has each in /command, and shell run scripts chain them (`exec s6-notifyoncheck ... cd /config
 * s6-setuidgid abc app`). Each runs here as the first command of a one-command script.
 */
export const EXECLINE_PROGRAMS: readonly string[] = [
  'cd',
  'umask',
  'fdclose',
  'fdswap',
  'emptyenv',
  'export',
  'unexport',
  'importas',
  'define',
  'multisubstitute',
  'foreground',
  'background',
  'if',
  'ifelse',
  'ifte',
  'ifthenelse',
  'backtick',
  'pipeline',
  'heredoc',
  'forx',
  // Shell scripts have theirs built in; some images' run scripts call it through a chain all the same.
  'exec',
  'eltest',
  // s6-portable-utils' name for eltest, which s6-overlay has in /command too.
  's6-test',
  'loopwhilex',
  'forstdin',
  'forbacktickx',
  'envfile',
  'withstdinas',
  'homeof',
  'tryexec',
  'elglob',
  'shift',
  'elgetpositionals',
  'dollarat',
  'getpid',
  'getcwd',
  'multidefine',
  'case',
  // A shell's own trap, wait and case come before PATH (special built-ins, reserved words,
  // intrinsic utilities), so these are for what calls them as programs, as s6-overlay links them.
  'trap',
  'wait',
  // Not elgetopt and runblock: they read the positional parameters from variables (#, 1...) that
  // the sh line in front of Steward's Node commands drops when a shell starts them; an image's own are linked instead.
  'piperw',
  'fdreserve',
  'fdblock',
];

/**
 * s6's chain-loading commands that the interpreter runs itself (they set up the program's
 * environment, account, limits or a lock), linked in /command as programs too: s6-envdir
 * in Node reads thousands of files in one pass and keeps any variable name.
 */
export const S6_CHAIN_PROGRAMS: readonly string[] = ['s6-envdir', 's6-envuidgid', 's6-applyuidgid', 's6-setlock', 's6-softlimit'];

/** s6-overlay v2's own chain-loading program, which its with-contenv runs (in /usr/bin there). */
export const OVERLAY_CHAIN_PROGRAMS: readonly string[] = ['justc-envdir'];
