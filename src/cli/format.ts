import type { OneshotNode } from '../control/target.js';
import type { StatusRecord } from '../control/status.js';
import { formatDuration } from '../util/duration.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** As s6-svstat: what it is, what it is wanted to be when that differs (after s6-svc -O, say), and paused (s6-svc -p). */
function stateText(service: StatusRecord): string {
  const wanted = service.pid !== null && !service.wantUp ? ', want down' : service.pid === null && service.wantUp && service.state === 'down' ? ', want up' : '';
  return `${service.state}${wanted}${service.paused ? ', paused' : ''}`;
}

export function statusTable(services: readonly StatusRecord[], oneshots: readonly OneshotNode[] = []): string {
  const rows = services.map((service) => [
    service.name,
    service.kind,
    stateText(service),
    service.pid === null ? '-' : String(service.pid),
    service.uptimeMs === null ? '-' : formatDuration(service.uptimeMs),
    String(service.restarts),
    // A run script that cannot be executed never exits: say why it does not run instead.
    service.spawnError !== null && service.spawnError !== undefined && service.pid === null ? `${service.copyFailed === true ? 'cannot copy' : 'cannot execute'}: ${service.spawnError}` : (service.lastExit?.description ?? '-'),
    service.ready ? 'yes' : 'no',
    service.waitingFor.length === 0 ? '-' : service.waitingFor.join(','),
  ]);
  // Oneshots after the longruns: what matters is whether each init step ran (up) or failed.
  for (const oneshot of oneshots) rows.push([oneshot.name, 'oneshot', oneshot.state, '-', '-', '-', '-', oneshot.state === 'up' ? 'yes' : 'no', '-']);
  return table(['NAME', 'KIND', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'READY', 'WAITING FOR'], rows);
}
