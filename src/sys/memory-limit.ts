import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** cgroup v1 says "no limit" with a number near 2^63. */
const UNLIMITED_V1 = 2 ** 62;

/**
 * The memory the kernel weighs badness against: the lowest memory cgroup limit from this
 * process's cgroup up to the root it can see (cgroup v2's memory.max, v1's
 * memory.limit_in_bytes), or the machine's memory when no limit is set or none can be read.
 */
export function memoryLimit(proc = '/proc', cgroupRoot = '/sys/fs/cgroup'): { bytes: number; source: string } | undefined {
  let lowest: { bytes: number; source: string } | undefined;
  for (const file of cgroupLimitFiles(proc, cgroupRoot)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = text === 'max' ? Infinity : Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= UNLIMITED_V1) continue;
    if (lowest === undefined || bytes < lowest.bytes) lowest = { bytes, source: file };
  }
  if (lowest !== undefined) return lowest;
  try {
    const match = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync(join(proc, 'meminfo'), 'utf8'));
    return match?.[1] === undefined ? undefined : { bytes: Number(match[1]) * 1024, source: join(proc, 'meminfo') };
  } catch {
    return undefined;
  }
}

/** The limit files of this process's memory cgroup and of each parent above it, deepest first. */
function cgroupLimitFiles(proc: string, cgroupRoot: string): string[] {
  let lines: string[];
  try {
    lines = readFileSync(join(proc, 'self', 'cgroup'), 'utf8').split('\n');
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    const v1 = controllers.split(',').includes('memory');
    if (!v1 && controllers !== '') continue;
    const base = v1 ? join(cgroupRoot, 'memory') : cgroupRoot;
    const name = v1 ? 'memory.limit_in_bytes' : 'memory.max';
    // Inside a container the path may name the cgroup as the host sees it while the mount shows
    // the container's own cgroup as the root: each level that exists is read.
    for (let dir = join(base, path).replace(/\/+$/, ''); dir.startsWith(base); dir = dirname(dir)) {
      if (existsSync(join(dir, name))) files.push(join(dir, name));
      if (dir === base) break;
    }
  }
  return files;
}
