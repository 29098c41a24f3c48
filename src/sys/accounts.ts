import { readFileSync } from 'node:fs';

/** User and group lookups from /etc/passwd and /etc/group, as s6-envuidgid does. */

/**
 * The largest uid or gid: they are 32-bit unsigned numbers, as skarnet's tools scan them.
 * (The largest, 4294967295, is (uid_t)-1: setuid and setgid refuse it, as they do for s6.)
 */
export const MAX_ACCOUNT_ID = 4_294_967_295;

/**
 * A uid or gid written as a number, or undefined when it is not one: more digits than a uid
 * holds are refused, as s6's do, rather than wrapped round (4294967296 became 0, and the
 * program ran as root where a privilege drop was asked for).
 */
export function parseAccountId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ACCOUNT_ID ? id : undefined;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

function readTable(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

export function lookupUser(nameOrId: string, passwdPath = '/etc/passwd'): Account | undefined {
  for (const fields of readTable(passwdPath)) {
    if (fields[0] === nameOrId || fields[2] === nameOrId) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  const id = parseAccountId(nameOrId);
  return id === undefined ? undefined : { uid: id, gid: id };
}

export function lookupGroup(nameOrId: string, groupPath = '/etc/group'): number | undefined {
  for (const fields of readTable(groupPath)) {
    if (fields[0] === nameOrId || fields[2] === nameOrId) return Number(fields[2]);
  }
  return parseAccountId(nameOrId);
}

/** A user's groups for setgroups: its primary group first, then those listing it as a member. */
export function groupsOf(name: string, gid: number, groupPath = '/etc/group'): number[] {
  const groups = [gid];
  for (const fields of readTable(groupPath)) {
    const [, , id, members] = fields;
    if (id === undefined || members === undefined) continue;
    if (members.split(',').includes(name) && !groups.includes(Number(id))) groups.push(Number(id));
  }
  return groups;
}

/**
 * The groups that list `name` as a member, not counting its primary group unless listed:
 * s6-envuidgid's GIDLIST.
 */
export function supplementaryGroupsOf(name: string, groupPath = '/etc/group'): number[] {
  const groups: number[] = [];
  for (const fields of readTable(groupPath)) {
    const [, , id, members] = fields;
    if (id === undefined || members === undefined) continue;
    if (members.split(',').includes(name) && !groups.includes(Number(id))) groups.push(Number(id));
  }
  return groups;
}
