import { errnoName, libc } from './library.js';

/** pidfd_open's number: the same on every architecture (a syscall added after the tables were unified). */
const SYS_PIDFD_OPEN = 434;
/** struct pollfd: int fd, short events, short revents. */
const POLLFD_SIZE = 8;
const POLLIN = 1;

/**
 * A descriptor that becomes readable once process `pid` has ended, whoever its parent is
 * (pidfd_open, Linux 5.3): a process that is not Steward's child can be waited for without
 * polling /proc. Otherwise the errno's name: ESRCH when it is gone already, ENOSYS on an older
 * kernel, EMFILE out of descriptors.
 */
export function openProcessHandle(pid: number): number | string {
  const fd = libc().syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0);
  return fd >= 0 ? fd : errnoName(libc().errno());
}

export function closeProcessHandle(fd: number): void {
  libc().close(fd);
}

/**
 * Waits, on one of libuv's threads, until a process of `handles` has ended or `timeoutMs` has
 * passed. Resolves with the handles of the ones that ended (none at the time limit), or
 * undefined when poll failed: the caller then waits some other way. The handles must stay
 * open until it resolves.
 */
export function whenAnyEnds(handles: readonly number[], timeoutMs: number): Promise<number[] | undefined> {
  const fds = Buffer.alloc(handles.length * POLLFD_SIZE);
  handles.forEach((fd, index) => {
    fds.writeInt32LE(fd, index * POLLFD_SIZE);
    fds.writeInt16LE(POLLIN, index * POLLFD_SIZE + 4);
  });
  return new Promise((resolve) => {
    try {
      libc().poll.async(fds, handles.length, Math.max(0, Math.min(Math.round(timeoutMs), 0x7fffffff)), (error, result) => {
        if ((error !== null && error !== undefined) || result < 0) {
          resolve(undefined);
          return;
        }
        resolve(handles.filter((_, index) => fds.readInt16LE(index * POLLFD_SIZE + 6) !== 0));
      });
    } catch {
      resolve(undefined);
    }
  });
}
