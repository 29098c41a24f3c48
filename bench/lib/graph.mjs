// Service graphs: the s6-overlay v3 layout (s6-rc.d: oneshots, longruns,
// bundles, dependencies.d), which Steward brings up as one graph, against
// the same longruns as plain s6 service directories under s6-svscan (no
// oneshots, no dependencies: the baseline).
//
// Two trees:
//
//   realistic  the shape of test/fixtures/s6rc-realistic (read from it: types,
//              dependencies.d, contents.d, notification-fd, producer-for,
//              consumer-for, pipeline-name, the user and user2 bundles,
//              cont-init.d, services.d, cont-finish.d), with the bench's own
//              scripts, which do not sleep: a chain of a dozen oneshots gating
//              the longruns, a database with notification-fd that two
//              producers depend on, their logger, and 8 longruns in all
//   chain      LEVELS x WIDTH longruns, each of level k depending on every
//              longrun of level k-1 (dependencies.d)
//
// and three variants of each, run by the same peers as the rest of the bench:
//
//   plain  (s6)       the tree's longruns as plain s6 service directories: run,
//                     finish, notification-fd; s6-svscan scans them
//   flat   (Steward)  the same longruns as s6-rc.d longruns in the user bundle,
//                     with no dependencies, no oneshots, no pipeline
//   graph  (Steward)  the whole tree in s6-rc.d
//
// plus, with the realistic tree, two references that are not supervisors:
// Node as PID 1 running its first statement, bare and after loading koffi
// (see floorPeer).
//
// Every script announces itself on the fifo of layout.mjs with one line,
// "<name> <event> <pid>", written by the shell's echo builtin (no fork):
// longruns "start" (and "ready", just before they notify readiness), oneshots
// "start" and "done", down scripts "down-start" and "down-done", finish
// scripts "finish", cont-init.d and cont-finish.d scripts "start" and "done".
// The fifo keeps the order of the writes, so the order of the lines is the
// order in which the scripts ran: the start order is checked from it.

import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Instance } from './instance.mjs';
import { baseEnv, REPO } from './peers.mjs';
import { summarize } from './stats.mjs';

export const REALISTIC_FIXTURE = path.join(REPO, 'test', 'fixtures', 's6rc-realistic');

// ---------------------------------------------------------------------------
// Reading the fixture's shape

function entries(dir) {
  try {
    return fs.readdirSync(dir).filter((name) => !name.startsWith('.')).sort();
  } catch {
    return [];
  }
}

function text(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Non-empty lines without comments, as s6-rc reads a list or an up file. */
function words(file) {
  return (text(file) ?? '').split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
}

/**
 * The definitions of an s6-overlay /etc tree: every s6-rc.d directory
 * ({ name, type, typeFile, dependencies, contents, notificationFd, producerFor,
 * consumerFor, pipelineName, finish, upActs, down }), and the legacy
 * directories (cont-init.d and cont-finish.d script names, services.d
 * longruns). Scripts are not read: the bench writes its own.
 */
export function readShape(etc) {
  const rcDir = path.join(etc, 's6-overlay', 's6-rc.d');
  if (!fs.existsSync(rcDir)) throw new Error(`no s6-rc.d directory in ${etc}`);
  const rc = [];
  for (const name of entries(rcDir)) {
    const dir = path.join(rcDir, name);
    if (!fs.statSync(dir).isDirectory()) continue;
    const typeText = text(path.join(dir, 'type'))?.trim();
    const type = typeText ?? 'bundle';
    if (!['oneshot', 'longrun', 'bundle'].includes(type)) throw new Error(`${dir}: unknown type ${type}`);
    rc.push({
      name,
      type,
      typeFile: typeText !== undefined,
      dependencies: entries(path.join(dir, 'dependencies.d')),
      contents: entries(path.join(dir, 'contents.d')),
      notificationFd: text(path.join(dir, 'notification-fd'))?.trim() || null,
      producerFor: text(path.join(dir, 'producer-for'))?.trim() || null,
      consumerFor: words(path.join(dir, 'consumer-for')),
      pipelineName: text(path.join(dir, 'pipeline-name'))?.trim() || null,
      finish: fs.existsSync(path.join(dir, 'finish')),
      // An up file of comments only is a no-op oneshot (init-os-end).
      upActs: type === 'oneshot' && words(path.join(dir, 'up')).length > 0,
      down: type === 'oneshot' && words(path.join(dir, 'down')).length > 0,
    });
  }
  // What the bench's run script does: the same in every variant (see longrunScript).
  for (const def of rc) def.role = def.producerFor ? 'producer' : def.consumerFor.length ? 'logger' : null;
  const legacyServices = entries(path.join(etc, 'services.d')).map((name) => ({
    name,
    type: 'longrun',
    notificationFd: text(path.join(etc, 'services.d', name, 'notification-fd'))?.trim() || null,
    producerFor: null,
    consumerFor: [],
    finish: fs.existsSync(path.join(etc, 'services.d', name, 'finish')),
    role: null,
  }));
  return {
    rc,
    contInit: entries(path.join(etc, 'cont-init.d')),
    contFinish: entries(path.join(etc, 'cont-finish.d')),
    legacyServices,
  };
}

// ---------------------------------------------------------------------------
// Scripts

const mark = (fifo, name, event) => `echo "${name} ${event} $$" > ${fifo}`;

function script(lines) {
  return ['#!/bin/sh', ...lines, ''].join('\n');
}

/**
 * A longrun: announces its start; with a notification-fd, announces "ready"
 * and then notifies (so the line is in the fifo before its supervisor can
 * know); a producer writes one line to its logger; a logger copies its input
 * to a file until the end of it (so it leaves by itself at shutdown, once its
 * producers are down); everything else execs `sleep infinity`, which dies at
 * once on SIGTERM. The exec'd program keeps the PID and drops the
 * notification descriptor.
 */
function longrunScript(fifo, stateDir, def) {
  const fd = def.notificationFd;
  const lines = [mark(fifo, def.name, 'start')];
  if (fd !== null) lines.push(mark(fifo, def.name, 'ready'), `echo >&${fd}`);
  if (def.role === 'producer') lines.push(`echo "${def.name} line 1"`);
  const closeFd = fd !== null ? ` ${fd}>&-` : '';
  lines.push(def.role === 'logger'
    ? `exec cat > ${path.join(stateDir, `${def.name}.out`)}${closeFd}`
    : `exec sleep infinity${closeFd}`);
  return script(lines);
}

const markers = (fifo, name, first, second) => script([mark(fifo, name, first), mark(fifo, name, second)]);

function writeFile(file, content, mode = 0o644) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
}

/** A longrun's service directory: run, finish, notification-fd (the same for s6 and Steward). */
function writeServiceDir(dir, def, fifo, stateDir) {
  writeFile(path.join(dir, 'run'), longrunScript(fifo, stateDir, def), 0o755);
  if (def.finish) writeFile(path.join(dir, 'finish'), script([mark(fifo, def.name, 'finish')]), 0o755);
  if (def.notificationFd !== null) writeFile(path.join(dir, 'notification-fd'), `${def.notificationFd}\n`);
}

/** The common part of every layout: the fifo, Steward's runtime directory, a state directory. */
function baseLayout(dir) {
  const layout = {
    etc: path.join(dir, 'etc'),
    services: path.join(dir, 'services'),
    run: path.join(dir, 'run'),
    state: path.join(dir, 'state'),
    fifo: path.join(dir, 'events.fifo'),
  };
  fs.mkdirSync(layout.run, { recursive: true });
  fs.mkdirSync(layout.state, { recursive: true });
  return layout;
}

/** plain: every longrun as an s6 service directory under <dir>/services, for s6-svscan. */
function writePlain(dir, longruns) {
  const layout = baseLayout(dir);
  fs.mkdirSync(layout.services, { recursive: true });
  for (const def of longruns) writeServiceDir(path.join(layout.services, def.name), def, layout.fifo, layout.state);
  return layout;
}

/**
 * An s6-rc.d tree under <dir>/etc/s6-overlay/s6-rc.d, plus cont-init.d,
 * services.d and cont-finish.d: `shape` as readShape returns it.
 */
function writeRcTree(dir, shape) {
  const layout = baseLayout(dir);
  const rcDir = path.join(layout.etc, 's6-overlay', 's6-rc.d');
  for (const sub of ['cont-init.d', 'cont-finish.d', 'services.d']) fs.mkdirSync(path.join(layout.etc, sub), { recursive: true });
  for (const def of shape.rc) {
    const defDir = path.join(rcDir, def.name);
    fs.mkdirSync(defDir, { recursive: true });
    if (def.typeFile) writeFile(path.join(defDir, 'type'), `${def.type}\n`);
    for (const dep of def.dependencies ?? []) writeFile(path.join(defDir, 'dependencies.d', dep), '');
    for (const item of def.contents ?? []) writeFile(path.join(defDir, 'contents.d', item), '');
    if (def.producerFor) writeFile(path.join(defDir, 'producer-for'), `${def.producerFor}\n`);
    if (def.consumerFor?.length) writeFile(path.join(defDir, 'consumer-for'), `${def.consumerFor.join('\n')}\n`);
    if (def.pipelineName) writeFile(path.join(defDir, 'pipeline-name'), `${def.pipelineName}\n`);
    if (def.type === 'longrun') writeServiceDir(defDir, def, layout.fifo, layout.state);
    if (def.type === 'oneshot') {
      // As in the fixture: the up (down) file holds the absolute path of a script next to it.
      if (def.upActs) {
        writeFile(path.join(defDir, 'run'), markers(layout.fifo, def.name, 'start', 'done'), 0o755);
        writeFile(path.join(defDir, 'up'), `${path.join(defDir, 'run')}\n`);
      } else {
        writeFile(path.join(defDir, 'up'), '# Does nothing: the end of a stage.\n');
      }
      if (def.down) {
        writeFile(path.join(defDir, 'cleanup'), markers(layout.fifo, def.name, 'down-start', 'down-done'), 0o755);
        writeFile(path.join(defDir, 'down'), `${path.join(defDir, 'cleanup')}\n`);
      }
    }
  }
  for (const name of shape.contInit ?? []) {
    writeFile(path.join(layout.etc, 'cont-init.d', name), markers(layout.fifo, `cont-init.d/${name}`, 'start', 'done'), 0o755);
  }
  for (const name of shape.contFinish ?? []) {
    writeFile(path.join(layout.etc, 'cont-finish.d', name), markers(layout.fifo, `cont-finish.d/${name}`, 'start', 'done'), 0o755);
  }
  for (const def of shape.legacyServices ?? []) {
    writeServiceDir(path.join(layout.etc, 'services.d', def.name), def, layout.fifo, layout.state);
  }
  return layout;
}

/**
 * flat: the longruns as s6-rc.d longruns in the user bundle, nothing else (no
 * dependencies, no pipeline: a logger gets no input, as under plain s6).
 */
function flatShape(longruns) {
  const rc = longruns.map((def) => ({ ...def, type: 'longrun', typeFile: true, dependencies: [], contents: [], producerFor: null, consumerFor: [], pipelineName: null }));
  rc.push({ name: 'user', type: 'bundle', typeFile: true, contents: longruns.map((def) => def.name) });
  return { rc };
}

// ---------------------------------------------------------------------------
// The start order, checked from the fifo

/**
 * The graph as Steward runs it, s6-overlay's own services included (top =
 * base + user + legacy-services + user2; base = fix-attrs + legacy-cont-init;
 * legacy-services after base and user), with each node's markers: `starts`,
 * written when it begins, and `ups`, written before it is up. A longrun
 * without notification-fd is up as soon as it is spawned, before its shell
 * writes anything: it has no `ups`, so the order after it cannot be seen in
 * the fifo and is not checked (it still is through the nodes it needs). So is
 * legacy-services, which does not wait for readiness by default
 * (S6_CMD_WAIT_FOR_SERVICES=0).
 */
function orderGraph(shape) {
  const nodes = new Map();
  const node = (name, needs, starts = [], ups = []) => nodes.set(name, { name, needs, starts, ups });
  for (const def of shape.rc) {
    if (def.type === 'bundle') node(def.name, def.contents);
    else if (def.type === 'oneshot') {
      node(def.name, def.dependencies, def.upActs ? [[def.name, 'start']] : [], def.upActs ? [[def.name, 'done']] : []);
    } else {
      // A producer starts after its logger, as s6-rc-compile orders a pipeline.
      const needs = def.producerFor ? [...def.dependencies, def.producerFor] : def.dependencies;
      node(def.name, needs, [[def.name, 'start']], def.notificationFd !== null ? [[def.name, 'ready']] : []);
      if (def.pipelineName) node(def.pipelineName, [def.name, ...def.consumerFor]);
    }
  }
  node('fix-attrs', []);
  node('legacy-cont-init', ['fix-attrs'],
    shape.contInit.map((name) => [`cont-init.d/${name}`, 'start']),
    shape.contInit.map((name) => [`cont-init.d/${name}`, 'done']));
  node('base', ['fix-attrs', 'legacy-cont-init']);
  node('legacy-services', ['base', 'user'], shape.legacyServices.map((def) => [def.name, 'start']));
  for (const name of ['user', 'user2']) if (!nodes.has(name)) node(name, []);
  node('top', ['base', 'user', 'legacy-services', 'user2']);
  return nodes;
}

function closure(nodes, names) {
  const seen = new Set();
  const walk = (name) => {
    if (seen.has(name)) return;
    const n = nodes.get(name);
    if (!n) throw new Error(`the graph has no node ${name}`);
    seen.add(name);
    n.needs.forEach(walk);
  };
  names.forEach(walk);
  return seen;
}

/**
 * Checks, from the order of the fifo's lines, that every script of the graph
 * began only after everything it needs, directly or not, was up (a oneshot
 * done, a longrun with notification-fd ready), and that every oneshot and
 * cont-init.d script ran exactly once. Returns { checked } or throws.
 */
function checkOrder(nodes, events) {
  const index = new Map();
  const counts = new Map();
  events.forEach((e, i) => {
    const key = `${e.name} ${e.event}`;
    if (!index.has(key)) index.set(key, i);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  const violations = [];
  let checked = 0;
  for (const n of closure(nodes, ['top'])) {
    const { starts, ups, needs } = nodes.get(n);
    const needed = closure(nodes, needs);
    for (const [name, event] of starts) {
      const startAt = index.get(`${name} ${event}`);
      if (startAt === undefined) {
        violations.push(`${name} never started`);
        continue;
      }
      for (const dep of needed) {
        for (const [upName, upEvent] of nodes.get(dep).ups) {
          checked++;
          const upAt = index.get(`${upName} ${upEvent}`);
          if (upAt === undefined) violations.push(`${name} started, but ${upName} (needed through ${dep}) never wrote "${upEvent}"`);
          else if (upAt > startAt) violations.push(`${name} started before ${upName} (needed through ${dep}) wrote "${upEvent}"`);
        }
      }
    }
    // Oneshots and cont-init.d scripts run once per boot.
    for (const [name, event] of ups) {
      if (event === 'done' && counts.get(`${name} ${event}`) !== 1) violations.push(`${name} wrote "done" ${counts.get(`${name} ${event}`) ?? 0} times`);
    }
  }
  if (violations.length) throw new Error(`start order: ${violations.join('; ')}`);
  return { checked };
}

// ---------------------------------------------------------------------------
// The trees

/**
 * The three variants of the realistic tree: { plain, flat, graph }, each
 * { key, description, count, longruns, oneshots, write(dir), check? }.
 */
export function realisticTrees(fixture = REALISTIC_FIXTURE) {
  const shape = readShape(fixture);
  const rcLongruns = shape.rc.filter((def) => def.type === 'longrun');
  const longruns = [...rcLongruns, ...shape.legacyServices];
  const names = longruns.map((def) => def.name);
  const oneshots = shape.rc.filter((def) => def.type === 'oneshot').map((def) => def.name);
  const nodes = orderGraph(shape);
  const common = { count: longruns.length, longruns: names };
  return {
    plain: { ...common, key: 'plain', oneshots: [], write: (dir) => writePlain(dir, longruns) },
    flat: { ...common, key: 'flat', oneshots: [], write: (dir) => writeRcTree(dir, flatShape(longruns)) },
    graph: {
      ...common,
      key: 'graph',
      oneshots,
      scripts: shape.rc.filter((def) => def.upActs).length + shape.contInit.length,
      write: (dir) => writeRcTree(dir, shape),
      check: (events) => checkOrder(nodes, events),
    },
  };
}

export const chainName = (level, index) => `chain-${level}-${index}`;

/** The three variants of the chain: `levels` levels of `width` longruns. */
export function chainTrees(levels, width) {
  const levelNames = Array.from({ length: levels }, (_, l) => Array.from({ length: width }, (_, i) => chainName(l, i)));
  const longruns = levelNames.flat().map((name) => ({ name, type: 'longrun', notificationFd: null, producerFor: null, consumerFor: [], finish: false, role: null }));
  // Every user service depends on base, as s6-overlay images do; level k also on all of level k-1.
  const rc = longruns.map((def) => {
    const level = Number(def.name.split('-')[1]);
    return { ...def, typeFile: true, dependencies: ['base', ...(level > 0 ? levelNames[level - 1] : [])], contents: [] };
  });
  rc.push({ name: 'user', type: 'bundle', typeFile: true, contents: levelNames.flat() });
  const common = { count: longruns.length, longruns: levelNames.flat(), levels: levelNames, oneshots: [] };
  return {
    plain: { ...common, key: 'plain', write: (dir) => writePlain(dir, longruns) },
    flat: { ...common, key: 'flat', write: (dir) => writeRcTree(dir, flatShape(longruns)) },
    graph: { ...common, key: 'graph', write: (dir) => writeRcTree(dir, { rc, contInit: [], contFinish: [], legacyServices: [] }) },
  };
}

// ---------------------------------------------------------------------------
// Node's floor

/**
 * What any init written for Node pays before its first line of code, in the
 * same harness: PID 1 is `node -e`, which writes "node start <pid>" on the
 * fifo as its first statement and then waits for SIGTERM. With `koffi`, it
 * first loads koffi and libc, as Steward does at start-up (for posix_spawn).
 * Not a supervisor: a reference for the boot figures.
 */
function floorPeer(id, withKoffi) {
  // As Steward loads it: koffi's native module alone, not its entry point (see src/sys/ffi.ts).
  const koffi = path.join(REPO, 'node_modules', 'koffi', 'build', 'koffi', `linux_${process.arch}`, 'koffi.node');
  const code = [
    withKoffi ? `require(${JSON.stringify(koffi)}).load('libc.so.6');` : '',
    `require('fs').writeFileSync(process.argv[1], 'node start ' + process.pid + '\\n');`,
    "process.on('SIGTERM', () => process.exit(0));",
    'setInterval(() => {}, 1e9);',
  ].join(' ');
  return {
    id,
    argv: (layout) => [process.execPath, '-e', code, layout.fifo],
    env: () => baseEnv(),
  };
}

export const nodeFloor = floorPeer('node', false);
export const koffiFloor = floorPeer('node+koffi', true);

/** The "tree" of a floor peer: nothing but the fifo; its one "longrun" is the node process. */
export const floorTree = {
  key: 'floor',
  count: 1,
  longruns: ['node'],
  oneshots: [],
  write: (dir) => baseLayout(dir),
};

// ---------------------------------------------------------------------------
// The measurement

/** First time (ms after `origin`) of each "<name> <event>" among `events`. */
function firstTimes(events, origin) {
  const times = {};
  for (const e of events) {
    const key = `${e.name} ${e.event}`;
    if (!(key in times)) times[key] = e.t - origin;
  }
  return times;
}

/**
 * One boot and shutdown of `tree` under `peer`: the time from the launch
 * until every longrun of the tree has announced its start (and until the
 * first line of any script), the time of every marker, the start order
 * checked (trees with a check), then, after `settings.graphSettleMs` idle,
 * the shutdown: SIGTERM to PID 1 until the namespace is gone, with the
 * markers written meanwhile (down scripts, finish scripts, cont-finish.d).
 */
export async function graphCycle(peer, workRoot, tree, settings) {
  const instance = new Instance(peer, workRoot, tree);
  try {
    instance.start();
    const upAt = await instance.waitFor(() => {
      if (!tree.longruns.every((name) => instance.starts.has(name))) return undefined;
      return Math.max(...tree.longruns.map((name) => instance.starts.get(name)[0].t));
    }, settings.bootTimeoutMs, `${tree.longruns.length} longruns to start`);
    const result = {
      bootMs: upAt - instance.t0,
      firstMs: Math.min(...instance.events.map((e) => e.t)) - instance.t0,
    };
    if (tree.levels) {
      result.levelsMs = tree.levels.map((names) => Math.max(...names.map((name) => instance.starts.get(name)[0].t)) - instance.t0);
    }
    await sleep(settings.graphSettleMs);
    // Everything the boot wrote is in by now (cont-init, oneshots, readiness).
    const bootEvents = instance.events.slice();
    result.markersMs = firstTimes(bootEvents, instance.t0);
    if (tree.check) result.order = tree.check(bootEvents);
    result.shutdownMs = await instance.stop(settings.stopTimeoutMs);
    result.shutdownMarkersMs = firstTimes(instance.events.slice(bootEvents.length), instance.stopSentAt);
    return result;
  } finally {
    await instance.destroy();
  }
}

/** Summaries over the repetitions of one variant. */
export function summarizeCycles(cycles, tree) {
  const byKey = (pick) => {
    const keys = [...new Set(cycles.flatMap((c) => Object.keys(pick(c) ?? {})))];
    return Object.fromEntries(keys.map((k) => [k, summarize(cycles.map((c) => pick(c)?.[k]).filter((v) => v !== undefined))]));
  };
  return {
    longruns: tree.longruns.length,
    oneshots: tree.oneshots.length,
    boot: summarize(cycles.map((c) => c.bootMs)),
    firstScript: summarize(cycles.map((c) => c.firstMs)),
    shutdown: summarize(cycles.map((c) => c.shutdownMs)),
    markers: byKey((c) => c.markersMs),
    shutdownMarkers: byKey((c) => c.shutdownMarkersMs),
    ...(tree.levels ? { levels: tree.levels.map((_, l) => summarize(cycles.map((c) => c.levelsMs[l]))) } : {}),
    ...(cycles.some((c) => c.order) ? { orderChecked: cycles.map((c) => c.order?.checked ?? null) } : {}),
  };
}
