import { readFileSync } from 'node:fs';

/** User and group lookups from /etc/passwd and /etc/group, as s6-envuidgid does. */

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
  if (/^\d+$/.test(nameOrId)) return { uid: Number(nameOrId), gid: Number(nameOrId) };
  return undefined;
}

export function lookupGroup(nameOrId: string, groupPath = '/etc/group'): number | undefined {
  for (const fields of readTable(groupPath)) {
    if (fields[0] === nameOrId || fields[2] === nameOrId) return Number(fields[2]);
  }
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  return undefined;
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
