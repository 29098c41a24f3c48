
import { errnoCode, StewardError } from '../errors.js';
import { lookupGroup, lookupUser, MAX_ACCOUNT_ID, parseAccountId } from '../sys/accounts.js';
import { readRegularFile, whyUnreadable } from '../sys/regular-file.js';
import type { Diagnostic } from '../diagnostic.js';

/**
 * One fix-attrs.d line: `path recurse account fmode dmode`, where account is
 * `user[:group][,fallbackuid:fallbackgid]`, path may be a shell glob, and a mode of `-` leaves
 * the mode as it is (s6-overlay v1 and v2 take it so: `path true user - -` changes owners only).
 */
export interface FixAttrsRule {
  readonly file: string;
  readonly line: number;
  readonly pattern: string;
  readonly recurse: boolean;
  readonly uid: number;
  readonly gid: number;
  /** Undefined for `-`: the mode is left as it is. */
  readonly fileMode: number | undefined;
  readonly dirMode: number | undefined;
}

const MODE = /^[0-7]{3,4}$/;
/** A fix-attrs.d file is a few lines; one larger than this is not one. */
const FIX_ATTRS_FILE_LIMIT = 1024 * 1024;

export function parseFixAttrsFile(file: string, diagnostics: Diagnostic[]): FixAttrsRule[] {
  let text: string;
  try {
    text = readRegularFile(file, FIX_ATTRS_FILE_LIMIT).toString('utf8');
  } catch (error) {
    const hint = errnoCode(error) === 'EACCES' ? 'Make it readable by the user Steward runs as' : 'fix-attrs.d holds files of lines only: move anything else out of it';
    diagnostics.push({ severity: 'error', error: new StewardError('ERR_FIX_ATTRS', `cannot read: ${whyUnreadable(error)}`, { path: file, hint }) });
    return [];
  }
  const rules: FixAttrsRule[] = [];
  text.split('\n').forEach((raw, index) => {
    const words = raw.trim().split(/\s+/).filter((word) => word !== '');
    if (words.length === 0 || words[0]?.startsWith('#') === true) return;
    const line = index + 1;
    const fail = (message: string, hint: string): void => {
      diagnostics.push({ severity: 'error', error: new StewardError('ERR_FIX_ATTRS', message, { path: file, line, hint }) });
    };
    const [pattern, recurse, account, fileMode, dirMode] = words;
    if (pattern === undefined || recurse === undefined || account === undefined || fileMode === undefined || dirMode === undefined || words.length > 5) {
      fail(`expected 5 fields, found ${words.length}`, 'Write: path recurse(true|false) user[:group][,uid:gid] filemode dirmode');
      return;
    }
    if (recurse !== 'true' && recurse !== 'false') {
      fail(`recurse must be true or false, not ${JSON.stringify(recurse)}`, 'Write true to apply to everything below the path');
      return;
    }
    for (const [label, mode] of [['file mode', fileMode], ['directory mode', dirMode]] as const) {
      if (mode !== '-' && !MODE.test(mode)) {
        fail(`${label} ${JSON.stringify(mode)} is not an octal mode`, 'Write 3 or 4 octal digits, for example 0644 or 0755, or - to leave the mode as it is');
        return;
      }
    }
    const owner = resolveAccount(account);
    if (typeof owner === 'string') {
      fail(owner, 'Create the account in the image, or add a fallback such as nginx,101:101');
      return;
    }
    rules.push({ file, line, pattern, recurse: recurse === 'true', uid: owner.uid, gid: owner.gid, fileMode: parseMode(fileMode), dirMode: parseMode(dirMode) });
  });
  return rules;
}

function parseMode(text: string): number | undefined {
  return text === '-' ? undefined : parseInt(text, 8);
}

/**
 * Resolves `user[:group][,uid:gid]`; returns a message when it cannot. Each name falls back
 * on its own number, as s6-envuidgid -D does: `daemon:nosuch,3:4` is daemon's uid and gid 4.
 */
function resolveAccount(account: string): { uid: number; gid: number } | string {
  const [names = '', fallbackText] = account.split(',', 2);
  const [userName = '', groupName] = names.split(':', 2);
  let fallback: { uid: number; gid: number } | undefined;
  if (fallbackText !== undefined) {
    const [uidText = '', gidText = '', ...extra] = fallbackText.split(':');
    const uid = parseAccountId(uidText);
    const gid = parseAccountId(gidText);
    if (uid === undefined || gid === undefined || extra.length > 0) return `fallback ${JSON.stringify(fallbackText)} is not uid:gid (each a number up to ${MAX_ACCOUNT_ID})`;
    fallback = { uid, gid };
  }
  const user = lookupUser(userName);
  const uid = user?.uid ?? fallback?.uid;
  const gid = groupName === undefined ? (user?.gid ?? fallback?.gid) : (lookupGroup(groupName) ?? fallback?.gid);
  const tooLarge = (name: string): boolean => /^\d+$/.test(name) && parseAccountId(name) === undefined;
  if (uid === undefined) return tooLarge(userName) ? `${userName} is not a uid (a number up to ${MAX_ACCOUNT_ID})` : `unknown user ${JSON.stringify(userName)}`;
  if (gid === undefined) return tooLarge(groupName ?? '') ? `${groupName ?? ''} is not a gid (a number up to ${MAX_ACCOUNT_ID})` : `unknown group ${JSON.stringify(groupName)}`;
  return { uid, gid };
}
