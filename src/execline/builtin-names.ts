/**
 * The commands Steward's execlineb runs itself, by name, with their options as getopt's letters
 * (':' after one that takes a value; undefined for a command that takes none), without the
 * commands themselves: PID 1 only needs to know whether an up or down file goes beyond what it
 * runs in process (config/execline.ts), and the looks at scripts which options a command takes;
 * the commands would put the whole interpreter into PID 1's bundle, which every boot loads. A
 * unit test keeps this table equal to the interpreter's own.
 */
export const BUILTIN_COMMAND_OPTIONS: ReadonlyMap<string, string | undefined> = new Map<string, string | undefined>([
  ['background', 'd'],
  ['backtick', 'iID:NnEex'],
  ['case', 'sSeEnNi'],
  ['cd', undefined],
  ['define', 'sCcnNd:'],
  ['dollarat', 'n0d:'],
  ['elgetopt', 'D:'],
  ['elgetpositionals', 'P:'],
  ['elglob', 'vwsme0'],
  ['eltest', undefined],
  ['emptyenv', 'pcoP'],
  ['envfile', 'iI'],
  ['exec', 'cla:'],
  ['execline-cd', undefined],
  ['execline-umask', undefined],
  ['exit', undefined],
  ['export', undefined],
  ['fdblock', 'n'],
  ['fdclose', undefined],
  ['fdmove', 'c'],
  ['fdreserve', undefined],
  ['fdswap', undefined],
  ['forbacktickx', 'Eepo:x:NnCc0d:P:'],
  ['foreground', undefined],
  ['forstdin', 'Eepo:x:NnCc0d:P:'],
  ['forx', 'po:x:eE'],
  ['getcwd', 'Ee'],
  ['getpid', 'EePp'],
  ['heredoc', 'd'],
  ['homeof', undefined],
  ['if', 'ntXx:'],
  ['ifelse', 'nX'],
  ['ifte', 'nX'],
  ['ifthenelse', 'sX'],
  ['import', 'iD:usCcnNd:'],
  ['importas', 'iD:uSsCcnNd:'],
  ['justc-envdir', 'Ii'],
  ['loopwhilex', 'no:x:'],
  ['multidefine', '0rNnCcd:'],
  ['multisubstitute', undefined],
  ['pipeline', 'drw'],
  ['piperw', undefined],
  ['redirfd', 'rwuacxnb'],
  ['runblock', 'Prn:'],
  ['s6-applyuidgid', 'zUu:g:G:'],
  ['s6-envdir', 'IinfLc:'],
  ['s6-envuidgid', 'ugBniD:'],
  ['s6-setlock', 'nNrwt:d:'],
  ['s6-setuidgid', undefined],
  ['s6-softlimit', 'a:c:d:f:l:m:o:p:r:s:t:'],
  ['s6-test', undefined],
  ['shift', 'n:b:'],
  ['trap', 'x'],
  ['tryexec', 'ncla:'],
  ['umask', undefined],
  ['unexport', undefined],
  ['wait', 'Iiaort:'],
  ['with-contenv', undefined],
  ['withstdinas', 'iID:NnEe'],
]);

/** Whether the interpreter runs `name` itself rather than executing a program of that name. */
export function isBuiltinCommand(name: string): boolean {
  return BUILTIN_COMMAND_OPTIONS.has(name);
}
