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
