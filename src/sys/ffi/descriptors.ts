import { constants as osConstants } from 'node:os';

import { errnoName, libc, systemCallError } from './library.js';

const O_CLOEXEC = 0o2000000;
const F_SETFD = 2;

/** A pipe whose ends are close-on-exec, so only the children we hand them to get them. */
export function createPipe(): { readFd: number; writeFd: number } {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, O_CLOEXEC) !== 0) {
    const code = errnoName(libc().errno());
    const why = code === 'EMFILE' || code === 'ENFILE' ? ': too many open files; raise the limit (ulimit -n, or docker run --ulimit nofile=...)' : '';
    throw Object.assign(new Error(`cannot create a pipe: ${code}${why}`), { code, syscall: 'pipe2' });
  }
  return { readFd: fds[0] ?? -1, writeFd: fds[1] ?? -1 };
}

/** Whether `fd` is a terminal; through the C library, so node:tty (and node:net, which it loads) stay unloaded. */
export function isTerminal(fd: number): boolean {
  return libc().isatty(fd) === 1;
}

/** A descriptor survives exec: moved onto `to` (`from` === `to` only clears close-on-exec). */
export function moveDescriptor(from: number, to: number): void {
  const calls = libc().exec;
  const result = from === to ? calls.fcntl(to, F_SETFD, 'int', 0) : calls.dup2(from, to);
  if (result < 0) throw new Error(`cannot move descriptor ${from} to ${to}: errno ${libc().errno()}`);
}

const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const O_NONBLOCK_FLAG = 0o4000;

/** Switches a descriptor to blocking or non-blocking mode, keeping its other status flags. Throws with the errno name. */
export function setBlocking(fd: number, blocking: boolean): void {
  const calls = libc().exec;
  const flags = calls.fcntl(fd, F_GETFL, 'int', 0);
  const wanted = flags < 0 ? -1 : blocking ? flags & ~O_NONBLOCK_FLAG : flags | O_NONBLOCK_FLAG;
  if (wanted < 0 || calls.fcntl(fd, F_SETFL, 'int', wanted) < 0) throw Object.assign(new Error(`cannot change the blocking mode of descriptor ${fd}`), { code: errnoName(libc().errno()) });
}

/** A close-on-exec copy of `fd` numbered `lowest` or above, or -1 (past the limit, say). */
export function duplicateAbove(fd: number, lowest: number): number {
  return libc().exec.fcntl(fd, F_DUPFD_CLOEXEC, 'int', lowest);
}

/**
 * Puts an open file back in blocking mode (F_SETFL with no flags: for a pipe, clears
 * O_NONBLOCK and nothing else that could be set). Returns false when the call failed.
 */
export function clearStatusFlags(fd: number): boolean {
  return libc().exec.fcntl(fd, F_SETFL, 'int', 0) === 0;
}

/**
 * Reads what `fd` (non-blocking) holds now into `into`: the count, 0 at its end, or -1 when
 * nothing is there yet (EAGAIN) or the read failed. Node's readSync throws for EAGAIN, and the
 * error it builds, stack trace and all, costs more than the read: this is read on the way to a
 * restart.
 */
export function readAvailable(fd: number, into: Buffer): number {
  return libc().read(fd, into, into.length);
}

/** Creates a named pipe (Node has no mkfifo). Throws an error with the errno's name as its code. */
export function makeFifo(path: string, mode: number): void {
  if (libc().mkfifo(path, mode) !== 0) throw systemCallError('mkfifo', path);
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** struct sockaddr_un on Linux: a 16-bit family, then 108 bytes of path ending in a NUL. */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_OFFSET = 2;

/**
 * A listening Unix stream socket at `path`, made with three system calls. Node's own
 * listen first loads its cluster machinery, which costs a few milliseconds of PID 1's
 * start; this socket takes connections (they wait in its backlog) until Node adopts the
 * descriptor with `server.listen({ fd })`. Throws an error whose code is the errno name.
 */
export function listenOnUnixSocket(path: string, backlog: number): number {
  const encoded = Buffer.from(path);
  if (encoded.length >= SOCKADDR_UN_SIZE - SUN_PATH_OFFSET) {
    throw Object.assign(new Error(`socket path too long (${encoded.length} bytes, at most ${SOCKADDR_UN_SIZE - SUN_PATH_OFFSET - 1}): ${path}`), { code: 'ENAMETOOLONG', path });
  }
  const calls = libc();
  const address = Buffer.alloc(SOCKADDR_UN_SIZE);
  address.writeUInt16LE(AF_UNIX, 0);
  encoded.copy(address, SUN_PATH_OFFSET);
  const fd = calls.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw systemCallError('socket', path);
  if (calls.bind(fd, address, SUN_PATH_OFFSET + encoded.length + 1) !== 0 || calls.listen(fd, backlog) !== 0) {
    const error = systemCallError('bind', path);
    calls.close(fd);
    throw error;
  }
  return fd;
}

const F_SETLK = 6;
const F_SETLKW = 7;
const F_RDLCK = 0;
const F_WRLCK = 1;
/** struct flock on 64-bit Linux (glibc and musl): short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
const FLOCK_SIZE = 32;

/**
 * Takes a POSIX write lock on the whole file open at `fd`, without waiting, as
 * s6-supervise holds supervise/lock: s6's tools tell a live supervisor by it (F_GETLK).
 * The lock lasts until this process closes any descriptor of the file.
 */
export function lockWholeFile(fd: number): boolean {
  return lockFile(fd, { shared: false, wait: false }) === 'locked';
}

/**
 * A POSIX record lock on the whole file, as skalibs' fd_lock takes it (s6-setlock): shared
 * (a read lock) or exclusive, waiting for it or not. 'busy' when another process holds a
 * conflicting one and `wait` is false; otherwise the errno's name when it fails.
 */
export function lockFile(fd: number, options: { shared: boolean; wait: boolean }): 'locked' | 'busy' | { readonly errno: string } {
  const request = Buffer.alloc(FLOCK_SIZE); // l_whence SEEK_SET, l_start 0, l_len 0: the whole file
  request.writeInt16LE(options.shared ? F_RDLCK : F_WRLCK, 0);
  for (;;) {
    if (libc().exec.fcntl(fd, options.wait ? F_SETLKW : F_SETLK, 'void *', request) === 0) return 'locked';
    const errno = libc().errno();
    if (errno === osConstants.errno.EINTR) continue;
    if (errno === osConstants.errno.EAGAIN || errno === osConstants.errno.EACCES) return 'busy';
    return { errno: errnoName(errno) };
  }
}
