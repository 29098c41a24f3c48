/**
 * The programs s6-overlay puts in /command: skarnet's s6, s6-rc, execline, s6-portable-utils and
 * s6-linux-utils, and s6-overlay's own helpers. Scripts call them by name or by /command path;
 * Steward provides the common ones and links an image's own copies (a distribution's s6 or
 * execline package) for the rest.
 */
const S6 = [
  's6-applyuidgid', 's6-cleanfifodir', 's6-envdir', 's6-envuidgid', 's6-fdholder-daemon', 's6-fdholder-delete', 's6-fdholder-getdump',
  's6-fdholder-list', 's6-fdholder-retrieve', 's6-fdholder-setdump', 's6-fdholder-store', 's6-fdholder-transferdump', 's6-fdholderd',
  's6-fghack', 's6-ftrig-listen', 's6-ftrig-listen1', 's6-ftrig-notify', 's6-ftrig-wait', 's6-instance-control', 's6-instance-create',
  's6-instance-delete', 's6-instance-list', 's6-instance-maker', 's6-instance-status', 's6-ioconnect', 's6-ipcclient', 's6-ipcserver',
  's6-ipcserver-access', 's6-ipcserver-socketbinder', 's6-ipcserverd', 's6-log', 's6-mkfifodir', 's6-notifyoncheck', 's6-permafailon',
  's6-setlock', 's6-setsid', 's6-setuidgid', 's6-socklog', 's6-softlimit', 's6-sudo', 's6-sudoc', 's6-sudod', 's6-supervise', 's6-svc',
  's6-svdt', 's6-svdt-clear', 's6-svlink', 's6-svlisten', 's6-svlisten1', 's6-svok', 's6-svperms', 's6-svscan', 's6-svscanctl',
  's6-svstat', 's6-svunlink', 's6-svwait', 's6-tai64n', 's6-tai64nlocal', 's6-usertree-maker',
];
const S6_RC = ['s6-rc', 's6-rc-bundle', 's6-rc-compile', 's6-rc-db', 's6-rc-dryrun', 's6-rc-format-upgrade', 's6-rc-init', 's6-rc-oneshot-run', 's6-rc-update'];
const PORTABLE_UTILS = [
  's6-basename', 's6-cat', 's6-chmod', 's6-chown', 's6-clock', 's6-cut', 's6-dirname', 's6-dumpenv', 's6-echo', 's6-env', 's6-expr',
  's6-false', 's6-format-filter', 's6-grep', 's6-head', 's6-hiercopy', 's6-linkname', 's6-ln', 's6-ls', 's6-maximumtime', 's6-mkdir',
  's6-mkfifo', 's6-nice', 's6-nuke', 's6-pause', 's6-printenv', 's6-quote', 's6-quote-filter', 's6-rename', 's6-rmrf', 's6-seq',
  's6-sleep', 's6-sort', 's6-sync', 's6-tail', 's6-test', 's6-touch', 's6-true', 's6-uniquename', 's6-unquote', 's6-unquote-filter',
  's6-update-symlinks',
];
const LINUX_UTILS = ['s6-chroot', 's6-freeramdisk', 's6-hostname', 's6-logwatch', 's6-mount', 's6-pivotchroot', 's6-ps', 's6-swapoff', 's6-swapon', 's6-umount', 'rngseed'];
const EXECLINE = [
  'background', 'backtick', 'case', 'cd', 'define', 'dollarat', 'elgetopt', 'elgetpositionals', 'elglob', 'eltest', 'emptyenv', 'envfile',
  'exec', 'execlineb', 'exit', 'export', 'export-array', 'fdblock', 'fdclose', 'fdmove', 'fdreserve', 'fdswap', 'forbacktickx',
  'foreground', 'forqueue', 'forstdin', 'forx', 'getcwd', 'getpid', 'heredoc', 'homeof', 'if', 'ifelse', 'ifte', 'ifthenelse', 'importas',
  'loopwhilex', 'multidefine', 'multisubstitute', 'pipeline', 'piperw', 'redirfd', 'runblock', 'shift', 'trap', 'tryexec', 'umask',
  'unexport', 'wait', 'withstdinas',
];
const OVERLAY_HELPERS = ['justc-envdir', 'logutil-newfifo', 'logutil-service', 'printcontenv', 'with-contenv', 'with-retries'];

export type SkarnetPackage = 's6' | 's6-rc' | 's6-portable-utils' | 's6-linux-utils' | 'execline' | 's6-overlay';

const PACKAGES: ReadonlyMap<string, SkarnetPackage> = new Map([
  ...S6.map((name) => [name, 's6'] as const),
  ...S6_RC.map((name) => [name, 's6-rc'] as const),
  ...PORTABLE_UTILS.map((name) => [name, 's6-portable-utils'] as const),
  ...LINUX_UTILS.map((name) => [name, 's6-linux-utils'] as const),
  ...EXECLINE.map((name) => [name, 'execline'] as const),
  ...OVERLAY_HELPERS.map((name) => [name, 's6-overlay'] as const),
]);

export const SKARNET_COMMANDS: ReadonlySet<string> = new Set(PACKAGES.keys());

/** Which of skarnet's packages (or s6-overlay itself) a program of s6-overlay's /command comes from. */
export function skarnetPackageOf(name: string): SkarnetPackage | undefined {
  return PACKAGES.get(name);
}
