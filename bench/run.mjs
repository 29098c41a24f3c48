#!/usr/bin/env node
// Benchmark: Steward against Debian's s6 (s6-svscan), each as PID 1 of its
// own PID namespace, over identical service trees, in one run: boot,
// shutdown, idle memory, restart latency, service graphs (the s6-overlay v3
// layout under Steward against the same longruns under plain s6), and the
// start-up latency of the control commands (steward status and s6-svstat).
//
//   node bench/run.mjs [--quick] [--only s6|steward] [--out FILE] [--dir DIR] [--keep-node-env]
//
//   --quick          fewer repetitions (a rough run in about a minute)
//   --only           measure one peer
//   --out            where to write the JSON (default bench/results/latest.json)
//   --dir            parent of the scratch directory (default /dev/shm if it is a tmpfs)
//   --keep-node-env  pass the host's NODE_* variables on (see lib/peers.mjs)
//
// Prints a table and writes the full results (raw samples included) to
// bench/results/latest.json. Must run as root (unshare, /proc/PID/pagemap).
// See docs/benchmarks.md for what is measured and how.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliLatency } from './lib/cli.mjs';
import { chainTrees, floorTree, graphCycle, koffiFloor, nodeFloor, realisticTrees, summarizeCycles } from './lib/graph.mjs';
import { killAll } from './lib/instance.mjs';
import { floorSupervisor } from './lib/floor-supervisor.mjs';
import { bootCycle, restartLatency, restartLatencyTogether } from './lib/measure.mjs';
import { droppedNodeVariables, REPO, s6, setKeepNodeEnv, steward, stewardMissing } from './lib/peers.mjs';
import { evaluateTargets, perServiceKB, renderReport } from './lib/report.mjs';
import { summarize } from './lib/stats.mjs';

const FULL = {
  // Memory is read on the last repetition of each size. The 100-service boot is
  // compared with a target, and one run's median of five moved by 10 to 20 ms
  // from run to run on this machine: eleven keep that comparison steadier.
  bootPlan: [
    { services: 10, reps: 7 },
    { services: 100, reps: 11 },
    { services: 500, reps: 2 },
  ],
  restartKills: 30,
  // With the throttle off each kill takes a few tens of milliseconds: more of them make the
  // median steadier, which the comparison with the floor needs.
  throttleOffKills: 60,
  earlyKills: 5,
  // Steward by default waits until 1 s has passed since the previous start;
  // killing after 1.1 s of uptime measures the real respawn path rather than
  // that deliberate delay. (Debian's s6-supervise 2.11.3.2 waits 1 s after
  // every death whatever the uptime, so its figures always include that second;
  // see docs/benchmarks.md.)
  settledUptimeMs: 1100,
  // With the throttle off, kill shortly after the start (the run script has
  // exec'd sleep by then); with it on, this shows the throttle at work.
  earlyUptimeMs: 50,
  settleMs: 2000,
  memorySamples: 3,
  sampleIntervalMs: 500,
  bootTimeoutMs: 30000,
  stopTimeoutMs: 15000,
  restartTimeoutMs: 5000,
  // Control commands (steward status, s6-svstat, node -e 0): timed runs of
  // each against idle supervisors with this many services, after one warm-up.
  cliServices: 10,
  cliRuns: 20,
  cliTimeoutMs: 10000,
  // Service graphs (lib/graph.mjs): repetitions of each variant of the
  // realistic tree and of the chain (chainLevels levels of chainWidth
  // longruns), and how long the tree stays up before the SIGTERM.
  graphRealisticReps: 7,
  graphChainReps: 5,
  chainLevels: 10,
  chainWidth: 10,
  graphSettleMs: 500,
  // Boot of busyServices services while another process keeps one CPU busy.
  busyServices: 100,
  busyReps: 5,
  // Hard stop for the whole run, in case something hangs despite the timeouts.
  watchdogMs: 15 * 60 * 1000,
};

const QUICK = {
  ...FULL,
  bootPlan: [
    { services: 10, reps: 2 },
    { services: 100, reps: 2 },
    { services: 500, reps: 1 },
  ],
  restartKills: 5,
  throttleOffKills: 10,
  earlyKills: 2,
  settleMs: 1000,
  cliRuns: 5,
  graphRealisticReps: 3,
  graphChainReps: 2,
  busyReps: 2,
};

const PEERS = { s6, steward };

// Scratch directory of the current run, removed however the run ends.
let scratchDir = null;

function cleanUp() {
  killAll();
  if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = null;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string', default: path.join(REPO, 'bench', 'results', 'latest.json') },
      dir: { type: 'string' },
      'keep-node-env': { type: 'boolean', default: false },
    },
  });
  if (values.only && !PEERS[values.only]) throw new Error(`--only must be one of: ${Object.keys(PEERS).join(', ')}`);
  return values;
}

function preflight() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates PID namespaces and reads pagemap');
  for (const command of ['setpriv', 'unshare', 'mkfifo', 's6-svscan', 's6-svstat', 'sleep']) {
    try {
      execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`required command not found: ${command}`);
    }
  }
}

/** The mount (point, type, options) holding `dir`: the longest matching mount point. */
function mountOf(dir) {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').trim().split('\n').map((line) => {
    const [, point, type, options] = line.split(' ');
    return { point, type, options: options.split(',') };
  });
  const real = fs.realpathSync(dir);
  const holding = mounts.filter((m) => real === m.point || real.startsWith(m.point === '/' ? '/' : `${m.point}/`));
  return holding.sort((a, b) => b.point.length - a.point.length)[0];
}

/**
 * Where the service trees and runtime directories go. Both peers do many
 * small metadata operations per service (s6-supervise creates supervise/ and
 * event/, Steward copies each service directory), so the filesystem matters a
 * lot: a container's /run is normally a tmpfs, hence /dev/shm by default.
 */
function scratchParent(option) {
  if (option) return option;
  const shm = fs.existsSync('/dev/shm') ? mountOf('/dev/shm') : null;
  if (shm?.type === 'tmpfs' && !shm.options.includes('noexec')) return '/dev/shm';
  return os.tmpdir();
}

function tryRun(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machineInfo() {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? null,
    kernel: os.release(),
    node: process.version,
    s6: tryRun('dpkg-query', ['-W', '-f=${Version}', 's6']),
    unshare: tryRun('unshare', ['--version']),
    stewardCommit: tryRun('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']),
    // Other work on the machine skews timings; the load average says how busy it was.
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
  };
}

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Runs one scenario; a failure is logged and recorded, and the run goes on. */
async function attempt(result, label, body) {
  try {
    return await body();
  } catch (error) {
    log(`${label} failed: ${error.message}`);
    result.errors.push({ scenario: label, message: error.message });
    return undefined;
  }
}

/** Whether Steward can run at all: files present, and one service comes up and stops. */
async function checkSteward(workRoot, settings) {
  const missing = stewardMissing();
  if (missing) return missing;
  try {
    await bootCycle(steward, workRoot, 1, { memory: false, settings: { ...settings, bootTimeoutMs: 10000 } });
    return null;
  } catch (error) {
    return `smoke test failed: ${error.message}`;
  }
}

/**
 * Boot, shutdown and memory. Peers alternate which goes first on each
 * repetition so that neither always runs right after the other's teardown.
 */
async function bootPhase(peers, results, workRoot, settings) {
  for (const { services, reps } of settings.bootPlan) {
    const samples = Object.fromEntries(peers.map((p) => [p.id, { boot: [], firstService: [], perServiceAfterFirst: [], shutdown: [], bootCpuSupervisor: [], bootCpuServices: [] }]));
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? [...peers].reverse() : peers;
      for (const peer of order) {
        const memory = rep === reps - 1;
        const label = `${peer.id}: boot/shutdown ${services} services (rep ${rep + 1}/${reps})`;
        log(label);
        const r = await attempt(results[peer.id], label, () => bootCycle(peer, workRoot, services, { memory, settings }));
        if (!r) continue;
        samples[peer.id].boot.push(r.bootMs);
        samples[peer.id].firstService.push(r.firstMs);
        // Start-up cost apart: what each further service adds, in this repetition.
        samples[peer.id].perServiceAfterFirst.push((r.bootMs - r.firstMs) / Math.max(1, services - 1));
        samples[peer.id].shutdown.push(r.shutdownMs);
        samples[peer.id].bootCpuSupervisor.push(r.bootCpu.supervisorMs);
        samples[peer.id].bootCpuServices.push(r.bootCpu.servicesMs);
        if (r.memory) results[peer.id].memory[services] = r.memory;
      }
    }
    for (const peer of peers) {
      for (const [key, values] of Object.entries(samples[peer.id])) results[peer.id][key][services] = summarize(values);
    }
  }
}

/**
 * Boot under CPU contention: a busy loop in another process keeps one CPU busy (as a
 * neighbour on a shared host would) while each peer boots the same services, alternately.
 */
async function busyPhase(peers, results, workRoot, settings) {
  const services = settings.busyServices;
  const hog = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  try {
    const samples = Object.fromEntries(peers.map((p) => [p.id, []]));
    for (let rep = 0; rep < settings.busyReps; rep++) {
      for (const peer of rep % 2 ? [...peers].reverse() : peers) {
        const label = `${peer.id}: boot ${services} services, one CPU busy (rep ${rep + 1}/${settings.busyReps})`;
        log(label);
        const r = await attempt(results[peer.id], label, () => bootCycle(peer, workRoot, services, { memory: false, settings }));
        if (r) samples[peer.id].push(r.bootMs);
      }
    }
    for (const peer of peers) results[peer.id].busyBoot = { [services]: summarize(samples[peer.id]) };
  } finally {
    hog.kill('SIGKILL');
  }
}

/**
 * The service-graph scenarios: for each, the variants to run (peer, tree, and
 * which result they belong to). s6 runs the tree's longruns as plain service
 * directories; Steward the same longruns flat (s6-rc.d, no dependencies) and
 * the whole graph; the Node floors (no supervisor) go with Steward's results.
 */
function graphScenarios(settings) {
  const realistic = realisticTrees();
  const chain = chainTrees(settings.chainLevels, settings.chainWidth);
  return [
    {
      key: 'realistic',
      reps: settings.graphRealisticReps,
      variants: [
        { result: 's6', key: 'plain', peer: s6, tree: realistic.plain },
        { result: 'steward', key: 'flat', peer: steward, tree: realistic.flat },
        { result: 'steward', key: 'graph', peer: steward, tree: realistic.graph },
        { result: 'steward', key: 'nodeFloor', peer: nodeFloor, tree: floorTree },
        { result: 'steward', key: 'koffiFloor', peer: koffiFloor, tree: floorTree },
      ],
    },
    {
      key: 'chain',
      reps: settings.graphChainReps,
      variants: [
        { result: 's6', key: 'plain', peer: s6, tree: chain.plain },
        { result: 'steward', key: 'flat', peer: steward, tree: chain.flat },
        { result: 'steward', key: 'graph', peer: steward, tree: chain.graph },
      ],
    },
  ];
}

/** Service graphs; the variants rotate on each repetition, so none always runs first. */
async function graphPhase(peers, results, workRoot, settings) {
  const ids = new Set(peers.map((p) => p.id));
  let scenarios;
  try {
    scenarios = graphScenarios(settings);
  } catch (error) {
    log(`service graphs failed: ${error.message}`);
    for (const id of ids) results[id].errors.push({ scenario: 'service graphs', message: error.message });
    return;
  }
  for (const scenario of scenarios) {
    const variants = scenario.variants.filter((v) => ids.has(v.result));
    const cycles = new Map(variants.map((v) => [v, []]));
    for (let rep = 0; rep < scenario.reps; rep++) {
      const shift = rep % variants.length;
      for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) {
        const label = `${variant.peer.id}: ${scenario.key} tree, ${variant.key} (rep ${rep + 1}/${scenario.reps})`;
        log(label);
        const cycle = await attempt(results[variant.result], label,
          () => graphCycle(variant.peer, workRoot, variant.tree, settings));
        if (cycle) cycles.get(variant).push(cycle);
      }
    }
    for (const variant of variants) {
      if (!cycles.get(variant).length) continue;
      const graph = results[variant.result].graph;
      graph[scenario.key] ??= {};
      graph[scenario.key][variant.key] = summarizeCycles(cycles.get(variant), variant.tree);
    }
  }
}

/** Restart scenarios; s6 has no way to turn its 1 s throttle off. */
function restartPlan(peers, settings) {
  const plan = [];
  const ids = new Set(peers.map((p) => p.id));
  const settled = { kills: settings.restartKills, uptimeMs: settings.settledUptimeMs };
  const early = { kills: settings.earlyKills, uptimeMs: settings.earlyUptimeMs };
  if (ids.has('steward')) {
    plan.push({ peer: steward, key: 'throttleOff', throttleMs: 0, kills: settings.throttleOffKills, uptimeMs: settings.earlyUptimeMs });
  }
  for (const peer of peers) {
    plan.push({ peer, key: 'default', ...settled });
    // Killed early, the default throttle delays the restart: shows it at work.
    plan.push({ peer, key: 'throttled', ...early });
  }
  return plan;
}

async function restartPhase(peers, results, workRoot, settings) {
  if (results.s6) results.s6.restart.throttleOff = { notApplicable: 's6-supervise has no setting for its 1 s wait' };
  for (const { peer, key, ...scenario } of restartPlan(peers, settings)) {
    const label = `${peer.id}: restart ${key} (${scenario.kills} kills, ${scenario.uptimeMs} ms up)`;
    log(label);
    if (peer === steward && key === 'throttleOff') {
      await restartWithFloor(results, workRoot, scenario, settings, label);
      continue;
    }
    const summary = await attempt(results[peer.id], label,
      () => restartLatency(peer, workRoot, { ...scenario, settings }));
    if (summary) results[peer.id].restart[key] = { ...summary, uptimeMs: scenario.uptimeMs, throttleMs: scenario.throttleMs ?? 'default' };
  }
}

/**
 * Steward with its throttle off, and the machine's own floor (lib/floor-supervisor.mjs) in
 * the same conditions: both run at once and the kills take turns between them, so that
 * the difference of their medians is Steward's own cost, whatever the machine's drift.
 */
async function restartWithFloor(results, workRoot, scenario, settings, label) {
  results.floor = emptyResult();
  const built = floorSupervisor(workRoot);
  const record = (peerId, summary) => {
    results[peerId].restart.throttleOff = { ...summary, uptimeMs: scenario.uptimeMs, ...(peerId === 'steward' ? { throttleMs: 0 } : {}) };
  };
  if (built.error) {
    results.floor.restart.throttleOff = { notApplicable: built.error };
    const summary = await attempt(results.steward, label, () => restartLatency(steward, workRoot, { ...scenario, settings }));
    if (summary) record('steward', summary);
    return;
  }
  log(`  ... kills taking turns with a bare C loop's (the floor)`);
  const summaries = await attempt(results.steward, label, () =>
    restartLatencyTogether([{ peer: steward, throttleMs: 0 }, { peer: built.peer }], workRoot, { ...scenario, settings }));
  if (!summaries) {
    results.floor.restart.throttleOff = { notApplicable: 'measured with Steward, which failed' };
    return;
  }
  record('steward', summaries[0]);
  record('floor', summaries[1]);
}

/** Start-up latency of the control commands, against both supervisors at once (see lib/cli.mjs). */
async function cliPhase(peers, results, workRoot, settings) {
  const label = `control commands (${settings.cliServices} services, ${settings.cliRuns} runs each)`;
  log(label);
  const onError = (peerId, command, error) => {
    log(`${peerId}: ${command} failed: ${error.message}`);
    results[peerId].errors.push({ scenario: `${peerId}: ${command}`, message: error.message });
  };
  let byPeer;
  try {
    byPeer = await cliLatency(peers, workRoot, settings, onError, log);
  } catch (error) {
    // Nothing was measured (a supervisor did not come up): the failure counts for every peer.
    log(`${label} failed: ${error.message}`);
    for (const peer of peers) results[peer.id].errors.push({ scenario: label, message: error.message });
    return;
  }
  for (const [peerId, figures] of Object.entries(byPeer)) Object.assign(results[peerId].cli, figures);
}

function emptyResult() {
  return { restart: {}, boot: {}, busyBoot: {}, firstService: {}, perServiceAfterFirst: {}, shutdown: {}, bootCpuSupervisor: {}, bootCpuServices: {}, memory: {}, graph: {}, cli: {}, errors: [] };
}

function addDerived(results, settings) {
  const sizes = settings.bootPlan.map((p) => p.services);
  for (const r of Object.values(results)) {
    if (!r) continue;
    r.pssPerServiceKB = perServiceKB(r.memory, sizes, 'pssKB');
    r.localPssPerServiceKB = perServiceKB(r.memory, sizes, 'localPssKB');
  }
}

async function main() {
  const options = parseOptions();
  const settings = options.quick ? QUICK : FULL;
  setKeepNodeEnv(options['keep-node-env']);
  preflight();
  const watchdog = setTimeout(() => {
    log('watchdog: the run took too long, killing everything');
    cleanUp();
    process.exit(2);
  }, settings.watchdogMs);
  watchdog.unref();

  // Taken before the run, so the load average shows background activity only.
  const machine = machineInfo();
  const workRoot = fs.mkdtempSync(path.join(scratchParent(options.dir), 'steward-bench-'));
  scratchDir = workRoot;
  machine.scratchDir = { path: workRoot, filesystem: mountOf(workRoot)?.type ?? null };
  // Host variables left out of the environment of everything timed (lib/peers.mjs).
  machine.droppedNodeVariables = droppedNodeVariables();
  try {
    let peers = options.only ? [PEERS[options.only]] : [s6, steward];
    let stewardSkipped = null;
    if (peers.includes(steward)) {
      log('steward: smoke test');
      stewardSkipped = await checkSteward(workRoot, settings);
      if (stewardSkipped) {
        log(`steward will not be measured: ${stewardSkipped}`);
        peers = peers.filter((p) => p !== steward);
      }
    }
    const results = { s6: null, steward: null };
    for (const peer of peers) results[peer.id] = emptyResult();

    await bootPhase(peers, results, workRoot, settings);
    await busyPhase(peers, results, workRoot, settings);
    await graphPhase(peers, results, workRoot, settings);
    await restartPhase(peers, results, workRoot, settings);
    await cliPhase(peers, results, workRoot, settings);
    addDerived(results, settings);

    const output = {
      machine,
      settings,
      stewardSkipped,
      results,
      targets: evaluateTargets(results, settings),
    };
    // The Markdown copy is what docs/benchmarks.md quotes.
    const markdownOut = options.out.replace(/\.json$/, '') + '.md';
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, `${JSON.stringify(output, null, 2)}\n`);
    fs.writeFileSync(markdownOut, `${renderReport(output, settings, { markdown: true })}\n`);
    console.log(`\n${renderReport(output, settings)}\n`);
    log(`results written to ${options.out} and ${markdownOut}`);
    const failures = Object.values(results).flatMap((r) => r?.errors ?? []);
    if (failures.length) process.exitCode = 1;
  } finally {
    cleanUp();
  }
}

// Whatever ends the process, no namespace may outlive it.
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanUp();
    process.exit(128 + os.constants.signals[signal]);
  });
}

main().catch((error) => {
  log(error.stack ?? error.message);
  cleanUp();
  process.exitCode = 1;
});
