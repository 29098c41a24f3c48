import { readFileSync, realpathSync } from 'node:fs';

/** The mount a path is on, from /proc/self/mountinfo: its mount point and its options. */
export interface MountOf {
  readonly mountPoint: string;
  readonly options: readonly string[];
}

/** Octal escapes (\040 for a space) as mountinfo writes them. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(Number.parseInt(code, 8)));
}

/** The mount that holds `path` (the longest mount point above it); undefined when /proc cannot tell. */
export function mountOf(path: string, mountinfo = '/proc/self/mountinfo'): MountOf | undefined {
  let real: string;
  let text: string;
  try {
    real = realpathSync(path);
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return undefined;
  }
  let best: MountOf | undefined;
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional fields] - type source super-options
    const fields = line.split(' ');
    const mountPoint = fields[4] === undefined ? undefined : unescape(fields[4]);
    if (mountPoint === undefined || fields[5] === undefined) continue;
    const inside = mountPoint === '/' || real === mountPoint || real.startsWith(`${mountPoint}/`);
    // Later lines are mounted over earlier ones: the last longest match is the one in effect.
    if (inside && (best === undefined || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, options: fields[5].split(',') };
  }
  return best;
}

/** Mount points at `dir` or below it, from /proc/self/mountinfo; undefined when /proc cannot tell. */
export function mountPointsUnder(dir: string, mountinfo = '/proc/self/mountinfo'): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return undefined;
  }
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mountPoint = unescape(field);
    if (mountPoint === dir || mountPoint.startsWith(`${dir}/`)) found.push(mountPoint);
  }
  return found;
}
