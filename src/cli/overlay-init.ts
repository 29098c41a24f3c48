/**
 * s6-overlay v3's /init is a small sh script: it puts /command, /usr/bin and /bin in PATH and
 * execs s6-overlay-suexec, which runs stage0 with the container's arguments. Some images add
 * lines of their own before that exec (shinsenter/php runs a one-off command without the
 * services: `if [ "$#" -gt 0 ]; then ... exec /init-non-s6 "$@"; fi`). Replacing such an /init
 * with a link to Steward would drop them silently; keeping the script and starting Steward
 * where it started stage0 keeps them, with the arguments they leave.
 */

/** What an s6-overlay /init is, as `steward install` treats it. */
export type OverlayInit =
  /** Nothing but what s6-overlay puts there: replaced by a link to Steward. */
  | { readonly kind: 'stock' }
  /** With lines of the image's own: the same script, starting Steward instead of stage0. */
  | { readonly kind: 'extended'; readonly imageLines: readonly string[]; readonly withSteward: (stewardInit: string) => string }
  /** With lines of the image's own, and no exec of s6-overlay-suexec to put Steward in. */
  | { readonly kind: 'unrecognized'; readonly imageLines: readonly string[] };

/** The first line that makes it a script `steward install` wrote, so that another install writes it anew. */
export const STEWARD_MARK = '# Written by steward install from the s6-overlay /init beside it (/init.s6-overlay).';

/** The statement that starts s6-overlay's stage0 (its first line; it may go on over lines ending in a backslash). */
const SUEXEC_EXEC = /^\s*exec\s+(?:\S*\/)?s6-overlay-suexec(?:\s|$)/;

/**
 * Lines s6-overlay's own /init has besides the exec, across its v3 releases: the PATH set-up
 * (a fallback PATH, S6_GLOBAL_PATH, an `addpath` function and its calls) and `export PATH`.
 */
const OVERLAY_LINES = [
  /^if test -[zn] "\$(PATH|S6_GLOBAL_PATH)" ; then$/,
  /^PATH=(\/bin|\$S6_GLOBAL_PATH)$/,
  /^(else|fi|export PATH)$/,
  /^addpath \/(bin|usr\/bin|command)$/,
];

/** The body of s6-overlay's `addpath` function, which adds a directory to PATH once. */
const ADDPATH_START = /^addpath\s*\(\)\s*\{$/;

export function classifyOverlayInit(text: string): OverlayInit {
  const lines = text.split('\n');
  let execStart = -1;
  let execEnd = -1;
  const imageLines: string[] = [];
  let inAddpath = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const trimmed = line.trim();
    if (execStart === -1 && SUEXEC_EXEC.test(line)) {
      execStart = index;
      execEnd = index;
      while (execEnd + 1 < lines.length && (lines[execEnd] ?? '').trimEnd().endsWith('\\')) execEnd++;
      index = execEnd;
      continue;
    }
    if (index === 0 && line.startsWith('#!')) continue;
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (inAddpath) {
      if (line === '}') inAddpath = false;
      continue;
    }
    if (ADDPATH_START.test(trimmed)) {
      inAddpath = true;
      continue;
    }
    if (OVERLAY_LINES.some((pattern) => pattern.test(trimmed))) continue;
    imageLines.push(trimmed);
  }
  if (imageLines.length === 0) return { kind: 'stock' };
  if (execStart === -1) return { kind: 'unrecognized', imageLines };
  const before = lines.slice(0, execStart);
  const after = lines.slice(execEnd + 1);
  const [first = '', ...rest] = before;
  return {
    kind: 'extended',
    imageLines,
    withSteward: (stewardInit) =>
      [
        ...(first.startsWith('#!') ? [first, STEWARD_MARK] : [STEWARD_MARK, first]),
        ...rest,
        `# Steward starts here, where s6-overlay's stage0 did, with the arguments left by the lines above.`,
        `exec ${shellQuote(stewardInit)} "$@"`,
        ...after,
      ].join('\n'),
  };
}

/** Whether `text` is a script an earlier `steward install` wrote. */
export function writtenByInstall(text: string): boolean {
  return text.split('\n', 3).includes(STEWARD_MARK);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
