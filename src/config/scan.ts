import { isUtf8 } from 'node:buffer';
import { type Dirent, readdirSync, statSync } from 'node:fs';

import { StewardError, errnoCode } from '../errors.js';
import { readRegularFile, whyUnreadable } from '../sys/regular-file.js';
import type { Diagnostic } from '../diagnostic.js';

/** Entries of a directory in s6-ls | s6-sort order, dot-files skipped. Missing dir: none. */
export function listEntries(dir: string, diagnostics: Diagnostic[], options: { includeHidden?: boolean } = {}): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    diagnostics.push(...unreadableDirectory(dir, error));
    return [];
  }
  const undecodable = undecodableNames(dir, names, diagnostics, { includeHidden: options.includeHidden === true, directoriesOnly: false });
  // Byte order, as s6-sort: the default sort compares UTF-16 code units.
  return names.filter((name) => (options.includeHidden === true || !name.startsWith('.')) && !undecodable.has(name)).sort();
}

/** As listEntries, unsorted, with each entry's type: dot-files skipped, a missing dir has none. */
export function listDirents(dir: string, diagnostics: Diagnostic[]): Map<string, Dirent> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    diagnostics.push(...unreadableDirectory(dir, error));
    return new Map();
  }
  const undecodable = undecodableNames(
    dir,
    entries.map((entry) => entry.name),
    diagnostics,
    { includeHidden: false, directoriesOnly: true },
  );
  return new Map(entries.flatMap((entry) => (entry.name.startsWith('.') || undecodable.has(entry.name) ? [] : [[entry.name, entry] as const])));
}

/**
 * Names in `dir` that are not valid UTF-8 (Latin-1 names from an old archive, say): Node reads
 * them with U+FFFD in place of the bytes, a name that is not the file's, so the service or
 * script would be looked for where it is not ("has no run script"). Each that would be used
 * gets an error that shows its bytes and says how to rename it, and is left out; one that
 * would be skipped anyway (a dot-file, or a plain file where services are directories) is
 * left alone, as s6-overlay leaves it.
 */
function undecodableNames(dir: string, names: readonly string[], diagnostics: Diagnostic[], which: { includeHidden: boolean; directoriesOnly: boolean }): Set<string> {
  const undecodable = new Set<string>();
  if (!names.some((name) => name.includes('\uFFFD'))) return undecodable;
  let entries: Dirent<Buffer>[];
  try {
    entries = readdirSync(dir, { encoding: 'buffer', withFileTypes: true });
  } catch {
    return undecodable;
  }
  for (const entry of entries) {
    const bytes = entry.name;
    if (isUtf8(bytes)) continue;
    const name = bytes.toString('utf8');
    undecodable.add(name);
    if (!which.includeHidden && bytes[0] === 0x2e) continue;
    if (which.directoriesOnly && !entry.isDirectory() && !entry.isSymbolicLink()) continue;
    diagnostics.push({
      severity: 'error',
      error: new StewardError('ERR_CONFIG', `the name "${escapedBytes(bytes, '\\x')}" is not valid UTF-8, so it cannot be used: left out`, {
        path: dir,
        // printf's octal escapes name the bytes exactly in any sh, where a glob may match nothing.
        hint: `Rename it to a UTF-8 (or plain ASCII) name, for example: mv "$(printf '${printfPath(dir)}/${escapedBytes(bytes, '\\')}')" '${dir.replaceAll("'", "'\\''")}/NEW-NAME'`,
      }),
    });
  }
  return undecodable;
}

/** Bytes as text, printable ASCII as it is and the rest escaped (\\xE9 or, for printf, \\351). */
function escapedBytes(bytes: Buffer, style: '\\x' | '\\'): string {
  return [...bytes]
    .map((byte) => {
      const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x5c && !(style === '\\' && (byte === 0x25 || byte === 0x27));
      if (printable) return String.fromCharCode(byte);
      return style === '\\x' ? `\\x${byte.toString(16).padStart(2, '0')}` : `\\${byte.toString(8).padStart(3, '0')}`;
    })
    .join('');
}

/** A path as printf's format reads it back: its bytes, escaped where printf or the quotes would change them. */
function printfPath(path: string): string {
  return escapedBytes(Buffer.from(path), '\\');
}

function unreadableDirectory(dir: string, error: unknown): Diagnostic[] {
  const code = errnoCode(error);
  if (code === 'ENOENT') return [];
  return [
    {
      severity: 'error',
      error: new StewardError('ERR_CONFIG', `cannot read the directory: ${code ?? String(error)}`, {
        path: dir,
        hint: code === 'EACCES' ? `Make it readable by the user Steward runs as (uid ${process.getuid?.() ?? '?'})` : 'Check that it is a directory',
      }),
    },
  ];
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A value file (a type, a number, a signal, a list of names) is never this large. */
const VALUE_FILE_LIMIT = 64 * 1024;

/**
 * Reads a one-value control file (notification-fd, timeout-kill...). Trailing white
 * space and CR are dropped: CRLF files are common and harmless here, so they only warn.
 */
export function readValueFile(path: string, diagnostics: Diagnostic[]): string | undefined {
  let text: string;
  try {
    text = readRegularFile(path, VALUE_FILE_LIMIT).toString('utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    diagnostics.push({
      severity: 'error',
      error: new StewardError('ERR_CONFIG', `cannot read the file: ${whyUnreadable(error)}`, { path, hint: 'Make it a regular file holding the value' }),
    });
    return undefined;
  }
  if (text.includes('\r')) {
    diagnostics.push({
      severity: 'warning',
      error: new StewardError('ERR_CONFIG', 'has Windows (CRLF) line endings; reading it without them', {
        path,
        hint: `Convert it with: sed -i 's/\\r$//' ${path}`,
      }),
    });
  }
  return text.trim();
}

/** A non-negative integer from a control file, or the fallback with an error naming the file. */
export function readIntegerFile(path: string, fallback: number, what: string, diagnostics: Diagnostic[]): number {
  const text = readValueFile(path, diagnostics);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) {
    diagnostics.push({
      severity: 'error',
      error: new StewardError('ERR_CONFIG', `${JSON.stringify(text)} is not ${what}`, { path, line: 1, hint: 'Write digits only, followed by a newline' }),
    });
    return fallback;
  }
  return Number(text);
}

/** A notification-fd of 0: the service would write its readiness in place of its input. */
export function stdinNotification(path: string): Diagnostic {
  return {
    severity: 'error',
    error: new StewardError('ERR_CONFIG', 'notification-fd 0 would make stdin the readiness pipe', {
      path,
      line: 1,
      hint: 'Use the descriptor the daemon writes its newline to: 1 for stdout (a daemon started with -1), or 3 and up',
    }),
  };
}

/**
 * The names in a directory, read once: checking each optional file with its own failing
 * system call (and the exception Node makes of it) costs more than the whole listing.
 */
export function directoryNames(dir: string, problems?: Diagnostic[]): Map<string, Dirent> {
  try {
    return new Map(readdirSync(dir, { withFileTypes: true }).map((entry) => [entry.name, entry]));
  } catch (error) {
    const code = errnoCode(error);
    // Missing is the caller's to say (no run script...); anything else is said as it is.
    if (problems !== undefined && code !== 'ENOENT' && code !== 'ENOTDIR') {
      problems.push({
        severity: 'error',
        error: new StewardError('ERR_CONFIG', `cannot list ${dir}: ${code ?? String(error)}`, {
          path: dir,
          hint: code === 'EMFILE' || code === 'ENFILE' ? 'Steward ran out of file descriptors: raise the limit (ulimit -n, docker run --ulimit nofile=...)' : 'Check its permissions',
        }),
      });
    }
    return new Map();
  }
}

/** A listed entry that is a directory, following a symbolic link if it is one. */
export function isListedDirectory(dir: string, entry: Dirent | undefined): boolean {
  if (entry === undefined) return false;
  if (entry.isDirectory()) return true;
  return entry.isSymbolicLink() && isDirectory(`${dir}/${entry.name}`);
}
