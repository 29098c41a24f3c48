import { lookupGroup, lookupUser, MAX_ACCOUNT_ID, parseAccountId, supplementaryGroupsOf } from '../../sys/accounts.js';
import type { Command } from '../command.js';
import { ExeclineError, parseOptions, takeWord } from '../options.js';
import { becomeAccount } from './process.js';

/** s6's commands that set up an account for the program: by environment (s6-envuidgid) or at exec (s6-applyuidgid). */

const ENVUIDGID_USAGE = 's6-envuidgid [ -i | -D uid:gid:gidlist ] [ -u | -g | -B ] [ -n ] account prog...';

interface Defaults {
  uid: number;
  gid: number;
  groups: number[];
}

/** -D uid:gid:gidlist, any part of which may be left out (0, 0, none). */
function parseDefaults(text: string): Defaults {
  const [uid = '', gid = '', list = '', ...extra] = text.split(':');
  const number = (word: string): number => {
    if (word === '') return 0;
    const id = parseAccountId(word);
    if (id === undefined) throw new ExeclineError(`-D ${JSON.stringify(text)}: ${JSON.stringify(word)} is not a uid or gid (a number up to ${MAX_ACCOUNT_ID}); usage: ${ENVUIDGID_USAGE}`);
    return id;
  };
  if (extra.length > 0) throw new ExeclineError(`-D ${JSON.stringify(text)}: give uid:gid:gidlist; usage: ${ENVUIDGID_USAGE}`);
  return { uid: number(uid), gid: number(gid), groups: list === '' ? [] : list.split(',').map(number) };
}

/**
 * s6-envuidgid: UID, GID and GIDLIST (the supplementary groups, comma-separated, empty when
 * none) of an account, in the environment of the program. -u: UID only; -g: the account is a
 * group, GID only; -B: user:group, UID and GID; -n: a number is taken for a name not found;
 * an unknown account exits 1, unless -D gives the values to use instead.
 */
const s6envuidgid: Command = {
  usage: ENVUIDGID_USAGE,
  options: 'ugBniD:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [account, rest] = takeWord(afterOptions, 'the account', this.usage);
    const what = flags.has('u') ? 'user' : flags.has('g') ? 'group' : flags.has('B') || flags.has('n') ? 'both' : 'account';
    const numericFallback = flags.has('n');
    const defaults = flags.has('D') && !flags.has('i') ? parseDefaults(flags.get('D') ?? '') : undefined;
    let user: string | undefined;
    let group: string | undefined;
    if (what === 'group') group = account;
    else if (what === 'both') {
      const colon = account.indexOf(':');
      user = colon < 0 ? account : account.slice(0, colon) || undefined;
      group = colon < 0 ? undefined : account.slice(colon + 1) || undefined;
    } else user = account;
    const values = { uid: defaults?.uid ?? 0, gid: defaults?.gid ?? 0, groups: defaults?.groups ?? [] };
    const unknown = (kind: string, name: string): never => {
      throw new ExeclineError(`unknown ${kind}: ${name}`, 1);
    };
    if (group !== undefined) {
      const gid = lookupGroupByName(group) ?? (numericFallback ? parseAccountId(group) : undefined);
      if (gid !== undefined) values.gid = gid;
      else if (defaults === undefined) unknown('group', group);
    }
    if (user !== undefined) {
      const found = lookupUserByName(user);
      if (found !== undefined) {
        values.uid = found.uid;
        if (what === 'account') {
          values.gid = found.gid;
          values.groups = supplementaryGroupsOf(user);
        }
      } else if (numericFallback && parseAccountId(user) !== undefined) values.uid = parseAccountId(user) ?? 0;
      else if (defaults === undefined) unknown('user', user);
    }
    const env = context.state.env;
    if (what !== 'group') env.set('UID', String(values.uid));
    if (what !== 'user') env.set('GID', String(values.gid));
    if (what === 'account') env.set('GIDLIST', values.groups.join(','));
    return { rest };
  },
};

/** By name only, as getpwnam: s6-envuidgid takes a number for a name only with -n. */
function lookupUserByName(name: string): { uid: number; gid: number } | undefined {
  return /^\d+$/.test(name) ? undefined : lookupUser(name);
}

function lookupGroupByName(name: string): number | undefined {
  return /^\d+$/.test(name) ? undefined : lookupGroup(name);
}

const APPLYUIDGID_USAGE = 's6-applyuidgid [ -z ] [ -u uid ] [ -g gid ] [ -G gidlist ] [ -U ] prog...';

function numberOption(text: string, what: string): number {
  const id = parseAccountId(text);
  if (id === undefined) throw new ExeclineError(`${what} ${JSON.stringify(text)} is not a uid or gid (a number up to ${MAX_ACCOUNT_ID}); usage: ${APPLYUIDGID_USAGE}`);
  return id;
}

function groupList(text: string, what: string): number[] {
  return text === '' ? [] : text.split(',').map((word) => numberOption(word, what));
}

/**
 * s6-applyuidgid: the program runs with the given uid, gid and supplementary groups (-U: from
 * UID, GID and GIDLIST, which -u, -g and -G given with it override); 0 leaves the uid or gid as
 * it is, as s6's. -z takes UID, GID and GIDLIST out of the program's environment.
 */
const s6applyuidgid: Command = {
  usage: APPLYUIDGID_USAGE,
  options: 'zUu:g:G:',
  changesAccount: true,
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    const env = context.state.env;
    let uid = 0;
    let gid = 0;
    let groups: number[] | null = null;
    if (flags.has('U')) {
      for (const name of ['UID', 'GID', 'GIDLIST']) {
        if (!env.has(name)) throw new ExeclineError(`${name} not set (-U reads UID, GID and GIDLIST, as s6-envuidgid sets them)`);
      }
      uid = numberOption(env.get('UID') ?? '', 'UID');
      gid = numberOption(env.get('GID') ?? '', 'GID');
      groups = groupList(env.get('GIDLIST') ?? '', 'GIDLIST');
    }
    if (flags.has('u')) uid = numberOption(flags.get('u') ?? '', '-u');
    if (flags.has('g')) gid = numberOption(flags.get('g') ?? '', '-g');
    if (flags.has('G')) groups = groupList(flags.get('G') ?? '', '-G');
    if (rest.length === 0) throw new ExeclineError(`no program to run; usage: ${this.usage}`);
    const primary = gid !== 0 ? gid : (process.getegid?.() ?? 0);
    const account = {
      spec: `uid ${uid === 0 ? '(unchanged)' : uid}, gid ${gid === 0 ? '(unchanged)' : gid}`,
      uid: uid === 0 ? null : uid,
      gid: gid === 0 ? null : gid,
      // The primary group first, then the others, as skalibs' setgroups_and_gid.
      groups: groups === null ? null : [primary, ...groups.filter((group) => group !== primary)],
    };
    becomeAccount(account, context.state);
    if (flags.has('z')) for (const name of ['UID', 'GID', 'GIDLIST']) env.delete(name);
    return { rest };
  },
};

export const identityCommands: ReadonlyMap<string, Command> = new Map([
  ['s6-envuidgid', s6envuidgid],
  ['s6-applyuidgid', s6applyuidgid],
]);
