/**
 * The status socket: next to the control socket, open to every user (0666), as s6's
 * supervise/status files are world-readable, and answering only the requests that read.
 */

/** What the status socket answers. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['ping', 'status', 'ready', 'wait', 'graph']);

/** Whether a request only reads: those commands, a death tally read, and s6-rc's list, listall and dry runs (not a real change). */
export function onlyReads(message: unknown): boolean {
  const fields = typeof message === 'object' && message !== null ? (message as { cmd?: unknown; op?: unknown; dryRun?: unknown; clear?: unknown }) : {};
  // s6-svdt reads the death tally (world-readable under s6); s6-svdt-clear changes it.
  if (fields.cmd === 'deaths') return fields.clear !== true;
  if (fields.cmd === 'rc') return fields.op === 'list' || fields.op === 'listall' || (fields.op === 'change' && fields.dryRun === true);
  return READ_ONLY_COMMANDS.has(String(fields.cmd));
}

/** The status socket next to a control socket: control.sock gives control-status.sock. */
export function statusSocketPath(controlPath: string): string {
  return controlPath.endsWith('.sock') ? `${controlPath.slice(0, -'.sock'.length)}-status.sock` : `${controlPath}-status`;
}
