/**
 * The status socket: next to the control socket, open to every user (0666), as s6's
 * supervise/status files are world-readable, and answering only the requests that read.
 */

/** What the status socket answers. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['ping', 'status', 'wait', 'graph']);

/** The status socket next to a control socket: control.sock gives control-status.sock. */
export function statusSocketPath(controlPath: string): string {
  return controlPath.endsWith('.sock') ? `${controlPath.slice(0, -'.sock'.length)}-status.sock` : `${controlPath}-status`;
}
