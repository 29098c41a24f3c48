// Helpers that read the host's /proc. The harness lives in the host PID
// namespace, so every PID handled here is a host PID; the PID a process has
// inside its own namespace is the last entry of its NSpid line.

import fs from 'node:fs';

const PAGE_SIZE = 4096;

/** Every PID currently listed in /proc. */
export function listPids() {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/** The PID namespace a process lives in, e.g. "pid:[4026532201]"; null if it is gone. */
export function pidNamespaceOf(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

/** Selected fields of /proc/PID/status; null if the process is gone. */
export function readStatus(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (key) => text.match(new RegExp(`^${key}:\\s*(.*)$`, 'm'))?.[1] ?? '';
  const nsPids = field('NSpid').split(/\s+/).filter(Boolean).map(Number);
  return {
    pid,
    name: field('Name'),
    ppid: Number(field('PPid')),
    nsPid: nsPids[nsPids.length - 1],
    threads: Number(field('Threads')),
    // Page tables are kernel memory that PSS does not show; kept as context.
    pteKB: parseInt(field('VmPTE'), 10) || 0,
  };
}

/** Host PIDs of the direct children of `pid` (this kernel has no /proc/PID/task/TID/children). */
export function childrenOf(pid) {
  return listPids().filter((p) => readStatus(p)?.ppid === pid);
}

/** Status of every process sharing the PID namespace of `initPid` (including it). */
export function namespaceMembers(initPid) {
  const ns = pidNamespaceOf(initPid);
  if (!ns) return [];
  return listPids()
    .filter((p) => pidNamespaceOf(p) === ns)
    .map(readStatus)
    .filter(Boolean);
}

/** Rss, Pss and private (USS) memory in KiB from /proc/PID/smaps_rollup; null if gone. */
export function smapsRollup(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return {
    rssKB: kb('Rss'),
    pssKB: kb('Pss'),
    ussKB: kb('Private_Clean') + kb('Private_Dirty'),
  };
}

/**
 * CPU time in nanoseconds a process has used so far, all threads together
 * (schedstat has nanosecond resolution, unlike the clock ticks of /proc/PID/stat).
 */
export function cpuTimeNs(pid) {
  let total = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
  } catch {
    // The process or one of its threads went away; count what was read.
  }
  return total;
}

/**
 * "Namespace-local" PSS in KiB for each of `pids`: like the kernel's PSS,
 * each resident page is split evenly between the processes mapping it, but
 * only processes in `pids` are counted as sharers.
 *
 * Why: the kernel's PSS also divides a page with processes outside the
 * container. The harness itself is a Node process, so it shares the node
 * binary's text with Steward and would halve Steward's share of it, which a
 * real container would not. Passing all processes of the namespace gives the
 * figure the supervisor would have if it were alone on the machine.
 */
export function localPss(pids) {
  const framesByPid = new Map(pids.map((pid) => [pid, residentFrames(pid)]));
  const zeroFrames = zeroPageFrames(new Set([...framesByPid.values()].flat()));
  const mappers = new Map();
  for (const frames of framesByPid.values()) {
    for (const f of frames) mappers.set(f, (mappers.get(f) ?? 0) + 1);
  }
  const result = new Map();
  for (const [pid, frames] of framesByPid) {
    let bytes = 0;
    for (const f of frames) if (!zeroFrames.has(f)) bytes += PAGE_SIZE / mappers.get(f);
    result.set(pid, bytes / 1024);
  }
  return result;
}

/** Page frame numbers of the resident pages of a process (root only: others read PFN 0). */
function residentFrames(pid) {
  const frames = [];
  let maps;
  let fd;
  try {
    maps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
    fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
  } catch {
    return frames;
  }
  try {
    for (const { start, end } of residentAreas(maps)) readFrames(fd, start, end, frames);
  } catch {
    // The process exited mid-read; what was read so far is as good as it gets.
  } finally {
    fs.closeSync(fd);
  }
  return frames;
}

/** Address ranges of the mappings that have resident pages (skipping the rest saves reading GBs of reservations). */
function residentAreas(smaps) {
  const areas = [];
  let current = null;
  for (const line of smaps.split('\n')) {
    const header = line.match(/^([0-9a-f]+)-([0-9a-f]+) /);
    if (header) {
      current = { start: parseInt(header[1], 16), end: parseInt(header[2], 16) };
    } else if (current && line.startsWith('Rss:')) {
      if (parseInt(line.slice(4), 10) > 0) areas.push(current);
      current = null;
    }
  }
  return areas;
}

/** Appends the PFNs of the present pages in [start, end) to `frames`. */
function readFrames(fd, start, end, frames) {
  const pages = (end - start) / PAGE_SIZE;
  const chunk = Buffer.alloc(Math.min(pages, 65536) * 8);
  for (let done = 0; done < pages; ) {
    const count = Math.min(pages - done, chunk.length / 8);
    const offset = ((start / PAGE_SIZE) + done) * 8;
    const got = fs.readSync(fd, chunk, 0, count * 8, offset) / 8;
    for (let i = 0; i < got; i++) {
      const hi = chunk.readUInt32LE(i * 8 + 4);
      if (hi & 0x80000000) {
        // Bit 63: present; bits 0-54: PFN (the low 23 bits of the high word).
        frames.push((hi & 0x7fffff) * 2 ** 32 + chunk.readUInt32LE(i * 8));
      }
    }
    if (got < count) break;
    done += count;
  }
}

/** The subset of `frames` that are the shared zero page, which Rss and Pss never count. */
function zeroPageFrames(frames) {
  const zero = new Set();
  const fd = fs.openSync('/proc/kpageflags', 'r');
  const entry = Buffer.alloc(8);
  try {
    for (const f of frames) {
      if (fs.readSync(fd, entry, 0, 8, f * 8) === 8 && entry.readUInt32LE(0) & (1 << 24)) zero.add(f);
    }
  } finally {
    fs.closeSync(fd);
  }
  return zero;
}
