/**
 * s6-overlay's /init is a small script: v3's, in sh, puts /command, /usr/bin and /bin in PATH
 * and execs s6-overlay-suexec, which runs stage0 with the container's arguments; v2's, in
 * execline, sets a default PATH and runs /etc/s6/init/init-stage1. Some images add lines of
 * their own before that (shinsenter/php and Home Assistant's v2-era image run a one-off command
 * without the services: `if [ "$#" -gt 0 ]; then ... exec /init-non-s6 "$@"; fi`). Replacing such
 * an /init with a link to Steward would drop them silently; keeping the script and starting
 * Steward where it started s6-overlay keeps them, with the arguments they leave.
 */

/** What an s6-overlay /init is, as `steward install` treats it. */
export type OverlayInit =
  /** Nothing but what s6-overlay puts there: replaced by a link to Steward. */
  | { readonly kind: 'stock' }
  /** With lines of the image's own: the same script, starting Steward instead of s6-overlay. */
  | { readonly kind: 'extended'; readonly imageLines: readonly string[]; readonly withSteward: (stewardInit: string) => string }
  /** With lines of the image's own, and no statement starting s6-overlay to put Steward in. */
  | { readonly kind: 'unrecognized'; readonly imageLines: readonly string[] };

/** The first line that makes it a script `steward install` wrote, so that another install writes it anew. */
export const STEWARD_MARK = '# Written by steward install from the s6-overlay /init beside it (/init.s6-overlay).';

/** One release line's /init: how it starts s6-overlay, what else it has, how Steward starts in its place. */
interface InitShape {
  /** The statement that starts s6-overlay (its first line; in sh it may go on over lines ending in a backslash). */
  readonly start: RegExp;
  /** Lines s6-overlay's own /init has besides, across the line's releases. */
  readonly ownLines: readonly RegExp[];
  /** A function s6-overlay's own /init defines, from this line to a `}` alone on a line. */
  readonly ownFunction?: RegExp;
  /** The lines that start Steward, with the arguments as the script has them. */
  readonly startSteward: (stewardInit: string) => string[];
}

/**
 * v3: PATH set up (a fallback PATH, S6_GLOBAL_PATH, an `addpath` function and its calls), then
 * s6-overlay-suexec. PATH may then be only /command, /usr/bin and /bin, so node is looked for
 * where Steward's own commands look for it, as steward-init's `#!/usr/bin/env node` would not.
 */
const V3_SHAPE: InitShape = {
  start: /^\s*exec\s+(?:\S*\/)?s6-overlay-suexec(?:\s|$)/,
  ownLines: [/^if test -[zn] "\$(PATH|S6_GLOBAL_PATH)" ; then$/, /^PATH=(\/bin|\$S6_GLOBAL_PATH)$/, /^(else|fi|export PATH)$/, /^addpath \/(bin|usr\/bin|command)$/],
  ownFunction: /^addpath\s*\(\)\s*\{$/,
  startSteward: (stewardInit) => [
    `# Steward starts here, where s6-overlay's stage0 did, with the arguments left by the lines above.`,
    `for node in node /usr/local/bin/node /usr/bin/node; do command -v "$node" >/dev/null && exec "$node" ${shellQuote(stewardInit)} "$@"; done`,
    `echo "/init: cannot find node (Node.js) to start Steward: not in PATH ($PATH), /usr/local/bin or /usr/bin" >&2`,
    'exit 111',
  ],
};

/** v2: a default PATH imported and exported, then stage 1. Its PATH keeps the container's, or Docker's default. */
const V2_SHAPE: InitShape = {
  start: /^\s*\/etc\/s6\/init\/init-stage1\s+\$@\s*$/,
  ownLines: [/^(\/bin\/)?importas -D \S+ PATH PATH$/, /^export PATH \$\{PATH\}$/],
  startSteward: (stewardInit) => [`# Steward starts here, where s6-overlay's stage 1 did, with the arguments left by the lines above.`, `${execlineQuote(stewardInit)} $@`],
};

/**
 * Which release line `text` is: v3's starts s6-overlay-suexec after its addpath set-up (either
 * tells it, so that an image that replaced the exec is warned about), v2's runs
 * /etc/s6/init/init-stage1.
 */
function shapeOf(text: string): InitShape | undefined {
  if (text.includes('s6-overlay-suexec') || text.split('\n').some((line) => V3_SHAPE.ownFunction?.test(line.trim()) === true)) return V3_SHAPE;
  if (text.includes('/etc/s6/init/init-stage1')) return V2_SHAPE;
  return undefined;
}

/** An /init of neither shape (an older one that mentions s6-overlay) is taken as s6-overlay's alone. */
export function classifyOverlayInit(text: string): OverlayInit {
  const shape = shapeOf(text);
  if (shape === undefined) return { kind: 'stock' };
  const lines = text.split('\n');
  let startFrom = -1;
  let startTo = -1;
  const imageLines: string[] = [];
  let inFunction = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const trimmed = line.trim();
    if (startFrom === -1 && shape.start.test(line)) {
      startFrom = index;
      startTo = index;
      while (startTo + 1 < lines.length && (lines[startTo] ?? '').trimEnd().endsWith('\\')) startTo++;
      index = startTo;
      continue;
    }
    if (index === 0 && line.startsWith('#!')) continue;
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (inFunction) {
      if (line === '}') inFunction = false;
      continue;
    }
    if (shape.ownFunction?.test(trimmed) === true) {
      inFunction = true;
      continue;
    }
    if (shape.ownLines.some((pattern) => pattern.test(trimmed))) continue;
    imageLines.push(trimmed);
  }
  if (imageLines.length === 0) return { kind: 'stock' };
  if (startFrom === -1) return { kind: 'unrecognized', imageLines };
  const [first = '', ...rest] = lines.slice(0, startFrom);
  const after = lines.slice(startTo + 1);
  return {
    kind: 'extended',
    imageLines,
    withSteward: (stewardInit) =>
      [...(first.startsWith('#!') ? [first, STEWARD_MARK] : [STEWARD_MARK, first]), ...rest, ...shape.startSteward(stewardInit), ...after].join('\n'),
  };
}

/** Whether `text` is a script an earlier `steward install` wrote. */
export function writtenByInstall(text: string): boolean {
  return text.split('\n', 3).includes(STEWARD_MARK);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** A word for execlineb: in double quotes, where a backslash escapes. */
function execlineQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
