import type { InitContext } from './context.js';

/**
 * S6_SYNC_DISKS: flush file system buffers before the container exits, for volumes on
 * storage that loses unflushed writes. sync(1) is in every base image; the wait is
 * bounded so a stuck device cannot hold the container.
 */
export async function syncDisks(context: InitContext): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  context.reporter.info('steward', 'syncing disks (S6_SYNC_DISKS)');
  const result = spawnSync('sync', [], { stdio: 'ignore', timeout: 10_000 });
  if (result.error !== undefined || result.status !== 0) context.reporter.warn('steward', `sync did not complete: ${result.error?.message ?? `exit ${result.status}`}`);
}
