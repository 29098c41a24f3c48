import { chmodSync, chownSync, closeSync, constants, fchownSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';

import { netModule } from '../sys/builtins.js';
import { createPipe } from '../sys/ffi/descriptors.js';
import { stderrWaitingBytes, whenStderrDrained, writeOwnLine, writeStderr } from '../sys/stdio.js';
import { tai64n } from '../util/tai64n.js';

/**
 * The catch-all log of S6_LOGGING=1 and 2: everything services, scripts and the CMD
 * print, and Steward's own lines, go into /run/uncaught-logs/current, rotated as
 * s6-log does, and (with 1) copied to the container's stderr. Steward reads the pipe
 * itself, so there is no logger process to supervise and nothing is lost when it
 * restarts: it cannot restart.
 */
export interface CatchAllOptions {
  readonly dir: string;
  /** Keep a copy on the container's stderr (S6_LOGGING=1). */
  readonly copyToStderr: boolean;
  readonly timestamps: 'none' | 'tai64n' | 'iso' | 'both';
  /** Rotate `current` once it is larger than this many bytes. */
  readonly maxFileBytes: number;
  /** Archived files to keep. */
  readonly maxFiles: number;
  /** uid and gid to own the directory and its files (S6_CATCHALL_USER). */
  readonly owner: { uid: number; gid: number } | null;
}

/** Reads s6-log directives from S6_LOGGING_SCRIPT: nN, sSIZE, t and T; others are ignored. */
export function parseLoggingScript(script: string | undefined): Pick<CatchAllOptions, 'timestamps' | 'maxFileBytes' | 'maxFiles'> {
  // s6-overlay's quirk, kept: without the variable, the catch-all log has no timestamps.
  let maxFiles = 10;
  let maxFileBytes = 99999;
  let tai = false;
  let iso = false;
  for (const word of (script ?? '').split(/\s+/)) {
    if (/^n\d+$/.test(word)) maxFiles = Number(word.slice(1));
    else if (/^s\d+$/.test(word)) maxFileBytes = Math.min(268435455, Math.max(4096, Number(word.slice(1))));
    else if (word === 't') tai = true;
    else if (word === 'T') iso = true;
  }
  return { maxFiles, maxFileBytes, timestamps: tai && iso ? 'both' : tai ? 'tai64n' : iso ? 'iso' : 'none' };
}

/** s6-log's default line limit (-l): a longer line is logged in pieces of this many bytes. */
export const LINE_LIMIT = 8192;
const NEWLINE = Buffer.from('\n');
/** setgid, and its owner's alone (s6-linux-init-maker's uncaught-logs). */
export const CATCH_ALL_DIR_MODE = 0o2700;
/** What Steward's own line reads from the pipe first, at most: a pipe's worth, and then some. */
const OWN_LINE_READ_LIMIT = 1 << 20;
/**
 * While the copy to stderr is behind, Steward's own line still reads the pipe first (so that a
 * service's last words come before the line saying it died), up to this much waiting for
 * stderr in all: a pipe's worth, which a slow reader takes in well under the time the last
 * lines are given at exit.
 */
const OWN_LINE_ORDER_BYTES = 64 * 1024;
/**
 * What the last read at exit takes, at most: a process the kernel would not let Steward kill
 * (no KILL capability) may still be writing, and must not keep PID 1 from exiting.
 */
const CLOSE_READ_LIMIT = 16 << 20;
/** What the pipe gives in one go before other events get their turn (see start). */
const READ_BEFORE_YIELD_BYTES = 256 * 1024;

export class CatchAllLog {
  readonly writeFd: number;
  readonly #readFd: number;
  readonly #options: CatchAllOptions;
  #file: number | undefined;
  #size: number;
  /** The line being read, not yet ended: pieces, and their total length. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #lastArchiveAt = 0;
  /** Lines that could not be written since the last one that could, and why. */
  #lost = 0;
  #lostReason = '';
  #socket: Socket | undefined;
  /** The copy to stderr is behind (a slow reader of the container's output): reading waits. */
  #stderrBehind = false;
  /** A pull is due once stderr drains. */
  #waitingForStderr = false;
  /** A pull is due in the next turn of the event loop. */
  #pullScheduled = false;
  /** Read from the pipe since other events last had their turn. */
  #readSinceYield = 0;
  /** At the end: the pipe is read only by drain() and close(), no more on its own. */
  #drained = false;
  /** Where #readWaiting reads, made on first use. */
  #scratch: Buffer | undefined;

  constructor(options: CatchAllOptions) {
    this.#options = options;
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    if (options.owner !== null) chownSync(options.dir, options.owner.uid, options.owner.gid);
    // As s6-linux-init-maker makes it: what every service printed is for its owner alone.
    try {
      chmodSync(options.dir, CATCH_ALL_DIR_MODE);
    } catch {
      // Someone else's directory (a non-root container given one): writable is what counts.
    }
    this.#file = this.#openCurrent();
    this.#size = fstatSync(this.#file).size;
    const pipe = createPipe();
    this.writeFd = pipe.writeFd;
    this.#readFd = pipe.readFd;
  }

  start(): void {
    // Bytes, as s6-log copies them: output that is not UTF-8 (Latin-1, binary) stays as it was.
    const socket = new (netModule().Socket)({ fd: this.#readFd, readable: true, writable: false });
    this.#socket = socket;
    // Pulled ('readable'), not pushed ('data'): the socket reads ahead of any pause, up to a
    // pipe's worth, and what it holds is older than what the pipe still has. Steward's own lines
    // and the last reads at exit take it first (see #readWaiting), so no line passes another and
    // none is dropped with the socket.
    socket.on('readable', () => this.#pull());
    socket.on('error', () => undefined);
  }

  /**
   * Logs what the socket has read, while the copy to stderr keeps up. Once it is behind, the
   * socket is left to fill and stop reading, and the pipe to fill, as s6-log blocks on a full
   * stdout: the services wait. libuv reads a busy pipe many times over before it looks at
   * anything else: past READ_BEFORE_YIELD_BYTES, the rest waits for the next turn of the event
   * loop, so a service writing without pause does not keep signals and the control socket waiting.
   */
  #pull(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#drained) return;
    for (;;) {
      if (this.#stderrBehind) {
        this.#pullWhenStderrDrained();
        return;
      }
      if (this.#readSinceYield >= READ_BEFORE_YIELD_BYTES) {
        this.#pullNextTurn();
        return;
      }
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      this.#readSinceYield += chunk.length;
      this.write(chunk);
    }
  }

  #pullWhenStderrDrained(): void {
    if (this.#waitingForStderr) return;
    this.#waitingForStderr = true;
    whenStderrDrained(() => {
      this.#waitingForStderr = false;
      this.#stderrBehind = false;
      this.#pull();
    });
  }

  #pullNextTurn(): void {
    if (this.#pullScheduled) return;
    this.#pullScheduled = true;
    setImmediate(() => {
      this.#pullScheduled = false;
      this.#readSinceYield = 0;
      this.#pull();
    });
  }

  /**
   * Adds output from the pipe: whole lines are logged; a partial line waits for its end, up to
   * LINE_LIMIT bytes, past which it is logged in pieces, as s6-log splits lines (its -l, 8192
   * by default), so one endless line costs neither memory nor time beyond that.
   */
  write(output: string | Buffer): void {
    const bytes = typeof output === 'string' ? Buffer.from(output) : output;
    // Logged together, with one write to the file and as few to stderr as whole lines allow:
    // a service printing short lines fast (yes) must not cost PID 1 two writes per line.
    const lines: Buffer[] = [];
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(10, start);
      const end = newline === -1 ? bytes.length : newline;
      const room = LINE_LIMIT - this.#partialBytes;
      if (end - start > room) {
        this.#partial.push(bytes.subarray(start, start + room));
        this.#partialBytes += room;
        lines.push(this.#takeLine());
        start += room;
        continue;
      }
      if (newline === -1) {
        this.#partial.push(bytes.subarray(start, end));
        this.#partialBytes += end - start;
        break;
      }
      // Most lines come whole in one read: a view of it, no copy.
      if (this.#partialBytes === 0) lines.push(bytes.subarray(start, end));
      else {
        this.#partial.push(bytes.subarray(start, end));
        lines.push(this.#takeLine());
      }
      start = newline + 1;
    }
    if (lines.length > 0) this.#logLines(lines);
  }

  /**
   * Steward's own lines: whole lines of their own, never joined to a service's unfinished one.
   * What the pipe holds is logged first: a service's last words were written before Steward
   * saw it die, so they come before the line that says so (under s6-overlay both go through
   * one FIFO). Not while the copy to stderr is behind: the pipe waits then, as the services do.
   */
  writeOwn(text: string): void {
    // While the copy to stderr is behind, only as long as what waits for it stays small: the
    // services' output would otherwise pile up in PID 1 (s6-log would block them instead).
    if (this.#socket !== undefined) this.#readWaiting(OWN_LINE_READ_LIMIT, OWN_LINE_ORDER_BYTES);
    const lines = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Buffer.from(line));
    if (lines.length > 0) this.#logLines(lines, 'own');
  }

  /**
   * Logs what the pipe holds (at most CLOSE_READ_LIMIT), whether or not the copy to stderr is
   * behind, and reads no more from it on its own: once every process is gone, before Steward's
   * last lines, which must come after the services' last output.
   */
  drain(): void {
    if (this.#socket === undefined) return;
    this.#drained = true;
    this.#readWaiting(CLOSE_READ_LIMIT);
  }

  /**
   * Logs what is left and closes, at the very end: what the pipe still holds (every child is
   * gone, as a rule, so nothing more comes; at most CLOSE_READ_LIMIT) is read first, then a
   * last unfinished line.
   */
  close(): void {
    this.drain();
    if (this.#partialBytes > 0) this.#logLines([this.#takeLine()]);
    this.#socket?.destroy();
    try {
      this.#closeFile();
    } catch {
      // Nothing more can be logged anyway.
    }
  }

  /**
   * Reads what the pipe holds, without waiting: first what the socket has read ahead (it came
   * out of the pipe before the rest), then the pipe itself, which libuv made non-blocking when
   * the socket took it. At most `limit` bytes, so that a service writing without pause cannot
   * keep Steward here. Into one buffer kept for it, what was read copied out: an unfinished line
   * keeps a view of it, and most calls (one per line of Steward's own) find the pipe empty.
   */
  #readWaiting(limit = Number.POSITIVE_INFINITY, stderrLimit = Number.POSITIVE_INFINITY): void {
    // With the copy to stderr behind, no more than `stderrLimit` may wait for it.
    const mayTake = (taken: number): boolean => taken < limit && !(this.#stderrBehind && stderrWaitingBytes() >= stderrLimit);
    let taken = 0;
    const socket = this.#socket;
    while (socket !== undefined && mayTake(taken)) {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) break;
      this.write(chunk);
      taken += chunk.length;
    }
    // The pipe's bytes are newer than any the socket still holds: not before those.
    if (socket !== undefined && socket.readableLength > 0) return;
    this.#scratch ??= Buffer.allocUnsafe(65536);
    while (mayTake(taken)) {
      let count: number;
      try {
        count = readSync(this.#readFd, this.#scratch);
      } catch {
        break; // EAGAIN: empty (Steward still holds a write end), or already closed
      }
      if (count <= 0) break;
      this.write(Buffer.from(this.#scratch.subarray(0, count)));
      taken += count;
    }
  }

  /** The unfinished line's pieces, as one line; the next line starts empty. */
  #takeLine(): Buffer {
    const line = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#partialBytes = 0;
    return line;
  }

  /**
   * Lines: to the file, and (S6_LOGGING=1) a copy to stderr, in writes of whole lines, so that
   * lines never mix there either. One stamp for all of them: they were read at the same time.
   */
  #logLines(lines: readonly Buffer[], whose: 'services' | 'own' = 'services'): void {
    this.#append(lines);
    if (!this.#options.copyToStderr) return;
    const copy: Buffer[] = [];
    for (const line of lines) copy.push(line, NEWLINE);
    const text = Buffer.concat(copy);
    // Steward's own lines within the cap on what of them may wait (see writeOwnLine); the
    // services' output is held back at its source instead, through the pipe.
    if (whose === 'own') writeOwnLine(text);
    else if (!writeStderr(text)) this.#stderrBehind = true;
  }

  #append(lines: readonly Buffer[]): void {
    const stamp = Buffer.from(this.#stamp());
    let records: Buffer[] = [];
    let recordsBytes = 0;
    let written = 0;
    // A full or failing /run must not take PID 1 down: the lines are lost, and that is said once
    // on the container's stderr (not through this log, which cannot take it).
    try {
      for (const line of lines) {
        const length = stamp.length + line.length + 1;
        // current is rotated between two lines, as s6-log does, once the next would not fit.
        if (this.#size + recordsBytes + length > this.#options.maxFileBytes && this.#size + recordsBytes > 0) {
          this.#writeRecords(records, recordsBytes);
          written += records.length / 3;
          records = [];
          recordsBytes = 0;
          this.#rotate();
        }
        records.push(stamp, line, NEWLINE);
        recordsBytes += length;
      }
      this.#writeRecords(records, recordsBytes);
      if (this.#lost > 0) {
        writeStderr(`steward: warning: the catch-all log lost ${this.#lost} lines (${this.#lostReason}); it writes again\n`);
        this.#lost = 0;
      }
    } catch (error) {
      if (this.#lost === 0) {
        this.#lostReason = (error as NodeJS.ErrnoException).code ?? String(error);
        writeStderr(`steward: error: cannot write the catch-all log in ${this.#options.dir} (${this.#lostReason}); its lines are lost until it can. Give /run more room\n`);
      }
      this.#lost += lines.length - written;
    }
  }

  /** Records (stamp, line, newline: three buffers each) to current, in one write. */
  #writeRecords(records: readonly Buffer[], bytes: number): void {
    if (records.length === 0) return;
    // After a failure (a rotation that could not finish, say), current is opened again.
    this.#file ??= this.#openCurrent();
    this.#writeWhole(this.#file, Buffer.concat(records, bytes));
    this.#size += bytes;
  }

  /**
   * Writes the whole record or none of it: a write cut short (the file system filled up
   * mid-line) is taken back, so the next line does not start glued to half of this one.
   */
  #writeWhole(file: number, record: Buffer): void {
    let done = 0;
    try {
      while (done < record.length) done += writeSync(file, record, done);
    } catch (error) {
      if (done > 0) ftruncateSync(file, this.#size);
      throw error;
    }
  }

  #stamp(): string {
    // Below the millisecond too, as s6-log's stamps are: nanosecond digits, microsecond precision.
    const now = performance.timeOrigin + performance.now();
    const tai = `${tai64n(now)} `;
    const nanoseconds = String(Math.round((now - Math.floor(now / 1000) * 1000) * 1_000_000)).padStart(9, '0').slice(0, 9);
    const iso = `${localDateTime(new Date(Math.floor(now)))}.${nanoseconds}  `;
    switch (this.#options.timestamps) {
      case 'none':
        return '';
      case 'tai64n':
        return tai;
      case 'iso':
        return iso;
      case 'both':
        return tai + iso;
    }
  }

  /**
   * Opens current for appending. The directory may belong to S6_CATCHALL_USER, whose processes
   * can put anything there: root must write to, and give away, only a file of its own making.
   * So no link is followed, and what is opened must be a plain file with no other name (a hard
   * link to /etc/shadow would be one); anything else named current is removed and current made
   * anew. s6-overlay is safe there another way: its catch-all logger runs as that user.
   */
  #openCurrent(): number {
    const path = join(this.#options.dir, 'current');
    for (let attempt = 0; ; attempt++) {
      let fd: number | undefined;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
        const stats = fstatSync(fd);
        if (stats.isFile() && stats.nlink === 1) {
          if (this.#options.owner !== null) fchownSync(fd, this.#options.owner.uid, this.#options.owner.gid);
          return fd;
        }
        closeSync(fd);
        fd = undefined;
      } catch (error) {
        if (fd !== undefined) closeSync(fd);
        // ELOOP: a link; ENXIO: a fifo nobody reads. Anything else is a real failure.
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ELOOP' && code !== 'ENXIO') || attempt >= 2) throw error;
      }
      if (attempt >= 2) throw Object.assign(new Error(`${path} is not a plain file of the catch-all log's own, and could not be replaced`), { code: 'EEXIST' });
      rmSync(path, { force: true });
    }
  }

  /** current becomes @TAI64N.s; the oldest archives beyond maxFiles go. */
  #rotate(): void {
    this.#closeFile();
    // Named by when it was closed, below the millisecond: two rotations in one millisecond
    // must not give one name, or the second archive would replace the first.
    let closedAt = performance.timeOrigin + performance.now();
    if (closedAt <= this.#lastArchiveAt) closedAt = this.#lastArchiveAt + 0.001;
    this.#lastArchiveAt = closedAt;
    renameSync(join(this.#options.dir, 'current'), join(this.#options.dir, `${tai64n(closedAt)}.s`));
    const archives = readdirSync(this.#options.dir)
      .filter((name) => name.startsWith('@') && name.endsWith('.s'))
      .sort();
    this.#size = 0;
    for (const old of archives.slice(0, Math.max(0, archives.length - this.#options.maxFiles))) {
      try {
        rmSync(join(this.#options.dir, old), { force: true });
      } catch {
        // Not an archive of its own (a directory someone made under such a name): left there,
        // rather than the rotation failing at every line.
      }
    }
  }

  #closeFile(): void {
    if (this.#file === undefined) return;
    const file = this.#file;
    this.#file = undefined;
    closeSync(file);
  }
}

/** YYYY-MM-DD HH:MM:SS in the container's time zone (TZ, or /etc/localtime), as s6-log's T stamps are. */
function localDateTime(date: Date): string {
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}
