import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';

import type { ServiceSupervisor } from '../supervise/supervisor.js';
import { nearest } from '../util/nearest.js';
import { type ControlErrorBody, type Targets } from './protocol.js';
import type { ControlTarget } from './target.js';

/**
 * Finds the supervisors a request names, by name or by service directory (as s6
 * commands address them). Unknown ones are an error that suggests the nearest name.
 */
export function resolveTargets(target: ControlTarget, targets: Targets): ServiceSupervisor[] | ControlErrorBody {
  const found: ServiceSupervisor[] = [];
  const unknown: string[] = [];
  for (const name of targets.names) {
    const supervisor = target.supervisors.get(name);
    if (supervisor === undefined) unknown.push(name);
    else found.push(supervisor);
  }
  // Every live directory resolved once for the request, not once per directory named.
  const byRealDir = targets.dirs.length === 0 ? new Map<string, ServiceSupervisor>() : new Map([...target.supervisors.values()].map((supervisor) => [safeRealpath(supervisor.definition.liveDir), supervisor]));
  const serviceParents = targets.dirs.length === 0 ? new Set<string>() : parentsOfServiceDirs(target);
  for (const dir of targets.dirs) {
    const supervisor = findByDir(target, dir, byRealDir, serviceParents);
    if (supervisor === undefined) unknown.push(dir);
    else found.push(supervisor);
  }
  if (unknown.length > 0) return unknownServices(target, unknown);
  return [...new Set(found)];
}

/**
 * A service's directory, or one where Steward puts service directories and that is not there
 * (yet): /run/service/NAME before the boot links it. Elsewhere a directory that merely has a
 * service's name (/var/log/nginx, the image's /etc/services.d/nginx) is none, as it is none
 * for s6's own tools: `s6-svc -d /var/log/nginx` must not stop nginx.
 */
function findByDir(target: ControlTarget, dir: string, byRealDir: ReadonlyMap<string, ServiceSupervisor>, serviceParents: ReadonlySet<string>): ServiceSupervisor | undefined {
  const found = byRealDir.get(safeRealpath(dir));
  if (found !== undefined) return found;
  const serviceDir = basename(dir) === 'log' ? dirname(dir) : dir;
  if (!serviceParents.has(safeRealpath(dirname(serviceDir)))) return undefined;
  return target.supervisors.get(serviceNameOfDir(dir));
}

/** Where the service directories are: the scan directory, and the directories the live copies are in. */
function parentsOfServiceDirs(target: ControlTarget): Set<string> {
  const parents = new Set<string>();
  if (target.scanDir !== undefined) parents.add(safeRealpath(target.scanDir));
  for (const [name, supervisor] of target.supervisors) {
    if (!name.includes('/')) parents.add(safeRealpath(dirname(supervisor.definition.liveDir)));
  }
  return parents;
}

/** The service /run/service/NAME (or NAME/log) names when the directory is not there (yet). */
export function serviceNameOfDir(dir: string): string {
  return basename(dir) === 'log' ? `${basename(dirname(dir))}/log` : basename(dir);
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A name as given, quoted when it is empty or holds blanks or control characters (one line per message). */
function shownName(name: string): string {
  return name !== '' && !/[\s\p{C}]/u.test(name) ? name : JSON.stringify(name);
}

export function unknownServices(target: ControlTarget, unknown: readonly string[]): ControlErrorBody {
  // Names s6-rc knows but no supervisor has: oneshots and bundles, which have no process.
  const inGraph = target.rc === undefined ? [] : unknown.filter((name) => target.rc?.unknown([name]).length === 0);
  if (inGraph.length === unknown.length && inGraph.length > 0) {
    return {
      code: 'ERR_BAD_REQUEST',
      message: `${inGraph.join(', ')} ${inGraph.length > 1 ? 'are s6-rc oneshots or bundles' : 'is an s6-rc oneshot or bundle'}, not a longrun: this applies to longruns only`,
      hint: `steward start, stop and restart (or s6-rc change) bring ${inGraph.length > 1 ? 'them' : 'it'} up and down`,
      names: inGraph,
    };
  }
  // Known longruns s6-rc was asked about: services.d services, which the graph runs as one.
  const supervisedOnly = unknown.filter((name) => target.supervisors.has(name));
  if (supervisedOnly.length === unknown.length && supervisedOnly.length > 0) {
    return {
      code: 'ERR_UNKNOWN_SERVICE',
      message: `${supervisedOnly.join(', ')} ${supervisedOnly.length > 1 ? 'are services.d services' : 'is a services.d service'}, which s6-rc does not know by name (s6-overlay runs them all as legacy-services)`,
      hint: 'Use steward start, stop or restart, or s6-svc, on it',
      names: supervisedOnly,
    };
  }
  // The graph's oneshots too: a name close to one of them is as likely a typo.
  const known = [...new Set([...target.supervisors.keys(), ...(target.rc?.list([], false) ?? [])])];
  const first = unknown[0] ?? '';
  const suggestion = nearest(basename(first), known);
  const list = known.length === 0 ? 'there are no services' : `known services: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}`;
  // During the boot, services.d is read only once cont-init.d is done: its services are not known yet.
  const booting =
    target.booted?.() === false
      ? '; the boot is not over, and services.d is read once cont-init.d is done: a steward wait NAME from outside (docker exec) waits for one of its services, one from a cont-init.d script cannot, as the service starts after it'
      : '';
  return {
    code: 'ERR_UNKNOWN_SERVICE',
    message: `unknown service${unknown.length > 1 ? 's' : ''}: ${unknown.map(shownName).join(', ')}`,
    hint: `${suggestion === undefined ? list : `did you mean ${suggestion}? (${list})`}${booting}`,
    names: unknown,
  };
}
