// The measurements themselves. Every function starts its own namespace and
// always tears it down, whatever happens.

import { setTimeout as sleep } from 'node:timers/promises';
import { Instance } from './instance.mjs';
import { cpuTimeNs, localPss, smapsRollup } from './proc.mjs';
import { median, summarize } from './stats.mjs';

// Every service execs `sleep infinity`; any other process in the namespace
// belongs to the supervisor (s6-svscan and s6-supervise for s6; Steward's
// node process and whatever helpers it forks).
const SERVICE_COMMAND = 'sleep';

async function withInstance(peer, workRoot, services, options, body) {
  const instance = new Instance(peer, workRoot, services, options);
  try {
    instance.start();
    return await body(instance);
  } finally {
    await instance.destroy();
  }
}

/**
 * Boot time (spawn of unshare until every service announced itself; the
 * first announcement is kept too, to tell start-up cost from per-service
 * cost), optionally the idle memory, then the shutdown time (SIGTERM to PID 1
 * until unshare exits).
 */
export function bootCycle(peer, workRoot, services, { memory, settings }) {
  return withInstance(peer, workRoot, services, {}, async (instance) => {
    const allUp = await instance.allStarted(settings.bootTimeoutMs);
    const firstUp = Math.min(...[...instance.starts.values()].map((s) => s[0].t));
    const result = { bootMs: allUp - instance.t0, firstMs: firstUp - instance.t0 };
    result.bootCpu = await bootCpu(instance, settings);
    if (memory) result.memory = await idleMemory(instance, settings);
    result.shutdownMs = await instance.stop(settings.stopTimeoutMs);
    return result;
  });
}

/**
 * Restart latency: SIGKILL the service once it has been up `uptimeMs`, and
 * time until its run script announces the new start. The kill time is taken
 * right before kill(2), the respawn time when the announcement is read, both
 * on the harness clock, so the figure includes the supervisor noticing the
 * death, forking and exec'ing /bin/sh on the run script and the echo.
 */
export function restartLatency(peer, workRoot, { throttleMs, kills, uptimeMs, settings }) {
  return withInstance(peer, workRoot, 1, { throttleMs }, async (instance) => {
    const name = instance.layout.names[0];
    let current = await instance.nthStart(name, 1, settings.bootTimeoutMs);
    const latencies = [];
    for (let i = 0; i < kills; i++) {
      // Resolve the PID before waiting, so the /proc scan is not in the timing.
      const pid = instance.hostPidOf(current.nsPid);
      await sleep(Math.max(0, current.t + uptimeMs - performance.now()));
      const next = instance.startCount(name) + 1;
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      current = await instance.nthStart(name, next, settings.restartTimeoutMs);
      latencies.push(current.t - killedAt);
    }
    return summarize(latencies);
  });
}

/**
 * Restart latency of several supervisors measured together: each runs its own namespace
 * with one service, all at once, and the kills take turns between them (in an order
 * reversed on every round), each once its service has been up `uptimeMs`. A slow drift in
 * the machine's speed, which moves one peer's median by more than a millisecond when the
 * peers are measured one after the other, then hits all of them alike. Resolves with one
 * summary per entry, in order.
 */
export async function restartLatencyTogether(entries, workRoot, { kills, uptimeMs, settings }) {
  const instances = entries.map(({ peer, throttleMs }) => new Instance(peer, workRoot, 1, { throttleMs }));
  try {
    const current = [];
    for (const instance of instances) {
      instance.start();
      current.push(await instance.nthStart(instance.layout.names[0], 1, settings.bootTimeoutMs));
    }
    const latencies = instances.map(() => []);
    for (let round = 0; round < kills; round++) {
      const order = instances.map((_, index) => index);
      if (round % 2 === 1) order.reverse();
      for (const index of order) {
        const instance = instances[index];
        const name = instance.layout.names[0];
        const pid = instance.hostPidOf(current[index].nsPid);
        await sleep(Math.max(0, current[index].t + uptimeMs - performance.now()));
        const next = instance.startCount(name) + 1;
        const killedAt = performance.now();
        process.kill(pid, 'SIGKILL');
        current[index] = await instance.nthStart(name, next, settings.restartTimeoutMs);
        latencies[index].push(current[index].t - killedAt);
      }
    }
    return latencies.map((samples) => summarize(samples));
  } finally {
    await Promise.all(instances.map((instance) => instance.destroy()));
  }
}

/**
 * Memory of the supervisor's own processes once idle: a few smaps_rollup
 * readings after a settling delay (the median one is kept), one
 * namespace-local PSS reading (see proc.mjs), and the CPU time the
 * supervisor used while the readings were taken (an idle supervisor should
 * use next to none).
 */
async function idleMemory(instance, settings) {
  await sleep(settings.settleMs);
  const cpuStart = supervisorCpu(instance);
  const readings = [];
  for (let i = 0; i < settings.memorySamples; i++) {
    if (i > 0) await sleep(settings.sampleIntervalMs);
    readings.push(rollupTotals(supervisorProcesses(instance).supervisor));
  }
  const cpuEnd = supervisorCpu(instance);
  const pssMedian = median(readings.map((r) => r.pssKB));
  const reading = readings.find((r) => r.pssKB === pssMedian) ?? readings[readings.length - 1];
  const { all, supervisor } = supervisorProcesses(instance);
  const local = localPss(all.map((p) => p.pid));
  const localPssKB = supervisor.reduce((sum, p) => sum + (local.get(p.pid) ?? 0), 0);
  return {
    ...reading,
    localPssKB: Math.round(localPssKB),
    pssReadingsKB: readings.map((r) => r.pssKB),
    idleCpuMsPerS: (cpuEnd.ns - cpuStart.ns) / 1e6 / ((cpuEnd.t - cpuStart.t) / 1000),
  };
}

/**
 * CPU time used since the launch, once every service has exec'd its command: by the
 * supervisor's own processes (all threads) and by the services' (each one's run script,
 * then its command's start). On a machine with few CPUs the boot is bound by the sum of
 * the two, so this tells how much of it each supervisor adds, apart from its start-up
 * latency. Read after the boot time was taken, so the /proc walk costs the boot nothing.
 */
async function bootCpu(instance, settings) {
  const deadline = performance.now() + settings.bootTimeoutMs;
  let members = instance.members();
  // A service has announced itself from its run script; it may not have exec'd yet.
  while (members.filter((p) => p.name === SERVICE_COMMAND).length < instance.serviceCount && performance.now() < deadline) {
    await sleep(10);
    members = instance.members();
  }
  const sum = (processes) => processes.reduce((total, p) => total + cpuTimeNs(p.pid), 0) / 1e6;
  return {
    supervisorMs: sum(members.filter((p) => p.name !== SERVICE_COMMAND)),
    servicesMs: sum(members.filter((p) => p.name === SERVICE_COMMAND)),
  };
}

function supervisorCpu(instance) {
  const { supervisor } = supervisorProcesses(instance);
  return { t: performance.now(), ns: supervisor.reduce((sum, p) => sum + cpuTimeNs(p.pid), 0) };
}

/** Splits the namespace into the services and the supervisor's own processes. */
function supervisorProcesses(instance) {
  const all = instance.members();
  const services = all.filter((p) => p.name === SERVICE_COMMAND);
  if (services.length !== instance.serviceCount) {
    throw instance.failure(`expected ${instance.serviceCount} services running, found ${services.length}`);
  }
  return { all, supervisor: all.filter((p) => p.name !== SERVICE_COMMAND) };
}

/** Sums smaps_rollup figures (KiB) over processes, with a per-command breakdown. */
function rollupTotals(processes) {
  const totals = { processes: 0, threads: 0, rssKB: 0, pssKB: 0, ussKB: 0, pteKB: 0, byCommand: {} };
  for (const p of processes) {
    const memory = smapsRollup(p.pid);
    if (!memory) continue;
    totals.processes += 1;
    totals.threads += p.threads;
    totals.pteKB += p.pteKB;
    for (const key of ['rssKB', 'pssKB', 'ussKB']) totals[key] += memory[key];
    const entry = (totals.byCommand[p.name] ??= { count: 0, pssKB: 0 });
    entry.count += 1;
    entry.pssKB += memory.pssKB;
  }
  return totals;
}
