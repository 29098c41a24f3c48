// Start-up latency of the control commands: how long a status query takes,
// from the harness spawning the command to the command exiting, while a
// supervisor runs as PID 1 of its namespace with a tree of services.
//
//   steward status              Steward's CLI (node bin/steward status), every service
//   s6-svstat DIR (Debian)      the C tool against s6-svscan's service directory
//   s6-svstat DIR (Steward)     bin/s6-tool run through a link named s6-svstat, as
//                               an image's /command/s6-svstat is, against Steward
//   node -e 0                   the floor of any command written for Node
//
// Both supervisors run at the same time (each idle, in its own namespace) so
// that the commands can be interleaved: each round runs every command once,
// in an order that rotates from round to round, so drift in the machine's
// load hits all of them alike.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Instance } from './instance.mjs';
import { baseEnv, REPO } from './peers.mjs';
import { summarize } from './stats.mjs';

const STEWARD_CLI = path.join(REPO, 'bin', 'steward');
const S6_TOOL = path.join(REPO, 'bin', 's6-tool');
const OUTPUT_LIMIT = 64 * 1024;

/** Where Steward serves its control socket, under its runtime directory (STEWARD_RUN). */
export function controlSocket(layout) {
  return path.join(layout.run, 'steward', 'control.sock');
}

/**
 * Runs one command to completion. Resolves with the wall time from just
 * before spawn() to the 'exit' event, the exit status and the output (read
 * until the pipes close, which may come after 'exit').
 */
function timedRun(file, args, { env, timeoutMs }) {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let exit = null;
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => { stdout = (stdout + d).slice(-OUTPUT_LIMIT); });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-OUTPUT_LIMIT); });
    child.once('exit', (code, signal) => { exit = { ms: performance.now() - t0, code, signal }; });
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ ...exit, stdout, stderr });
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code: null, signal: null, error: error.message, stdout, stderr });
    });
  });
}

/** Throws unless the run exited 0 and its output passes `check`. */
function validate(command, run) {
  const what = run.error ?? (run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`);
  const problem = run.error || run.signal || run.code !== 0 ? what : command.check(run.stdout);
  if (problem) {
    const output = [run.stdout.trim(), run.stderr.trim()].filter(Boolean).join('\n').slice(-2000);
    throw new Error(`${command.label}: ${problem}${output ? `\n--- output ---\n${output}` : ''}`);
  }
}

const upLine = (stdout) => (/^up \(pid \d+/.test(stdout) ? null : `expected "up (pid N ...)", got ${JSON.stringify(stdout.trim())}`);

/** The commands to time, for the instances that are running. */
function commands({ s6Instance, stewardInstance, linkDir }) {
  const list = [];
  if (s6Instance) {
    const { services, names } = s6Instance.layout;
    list.push({
      peer: 's6', key: 's6svstat', label: 's6-svstat (Debian)',
      file: 's6-svstat', args: [path.join(services, names[0])], env: baseEnv(), check: upLine,
    });
  }
  if (stewardInstance) {
    const { run, names } = stewardInstance.layout;
    const env = { ...baseEnv(), STEWARD_RUN: run };
    list.push({
      peer: 'steward', key: 'status', label: 'steward status',
      file: process.execPath, args: [STEWARD_CLI, 'status'], env,
      check: (stdout) => {
        const missing = names.filter((name) => !new RegExp(`^${name}\\s+\\S+\\s+up\\s`, 'm').test(stdout));
        return missing.length ? `services not listed as up: ${missing.join(', ')}` : null;
      },
    });
    // Run through the link, so through its `#!/usr/bin/env node` line, as a script would.
    list.push({
      peer: 'steward', key: 's6svstat', label: 's6-svstat (Steward\'s s6-tool)',
      file: path.join(linkDir, 's6-svstat'), args: [path.join(run, 'service', names[0])], env, check: upLine,
    });
    list.push({
      peer: 'steward', key: 'nodeBaseline', label: 'node -e 0',
      file: process.execPath, args: ['-e', '0'], env: baseEnv(), check: () => null,
    });
  }
  return list;
}

async function waitForFile(file, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (performance.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Boots the peers in `peers` with `settings.cliServices` services each, then
 * runs the commands: one unmeasured warm-up run each, then
 * `settings.cliRuns` measured rounds. Calls `onError(peerId, label, error)`
 * for a command that fails (it is dropped from the following rounds) and
 * resolves with { s6: { key: summary }, steward: { key: summary } }.
 */
export async function cliLatency(peers, workRoot, settings, onError, log = () => {}) {
  const instances = [];
  const linkDir = fs.mkdtempSync(path.join(workRoot, 'cli-'));
  try {
    const byId = {};
    for (const peer of peers) {
      const instance = new Instance(peer, workRoot, settings.cliServices);
      instances.push(instance);
      instance.start();
      byId[peer.id] = instance;
    }
    for (const instance of instances) await instance.allStarted(settings.bootTimeoutMs);
    // Steward serves its control socket once the services are started.
    if (byId.steward) await waitForFile(controlSocket(byId.steward.layout), settings.bootTimeoutMs);
    fs.symlinkSync(S6_TOOL, path.join(linkDir, 's6-svstat'));
    await sleep(settings.settleMs);

    let active = commands({ s6Instance: byId.s6, stewardInstance: byId.steward, linkDir });
    const samples = new Map(active.map((c) => [c, []]));
    const warmup = new Map();
    const runOnce = async (command) => {
      const run = await timedRun(command.file, command.args, { env: command.env, timeoutMs: settings.cliTimeoutMs });
      validate(command, run);
      return run.ms;
    };
    const drop = (command, error) => {
      onError(command.peer, command.label, error);
      active = active.filter((c) => c !== command);
    };
    log(`control commands: ${active.map((c) => c.label).join(', ')}; 1 warm-up + ${settings.cliRuns} runs each`);
    for (const command of [...active]) {
      try {
        warmup.set(command, await runOnce(command));
      } catch (error) {
        drop(command, error);
      }
    }
    for (let round = 0; round < settings.cliRuns; round++) {
      const shift = active.length ? round % active.length : 0;
      for (const command of [...active.slice(shift), ...active.slice(0, shift)]) {
        if (!active.includes(command)) continue;
        try {
          samples.get(command).push(await runOnce(command));
        } catch (error) {
          drop(command, error);
        }
      }
    }

    const results = {};
    for (const command of active) {
      results[command.peer] ??= {};
      results[command.peer][command.key] = {
        ...summarize(samples.get(command)),
        command: [command.file === process.execPath ? 'node' : command.file, ...command.args].join(' '),
        warmupMs: Math.round(warmup.get(command) * 1000) / 1000,
      };
    }
    return results;
  } finally {
    for (const instance of instances) await instance.destroy();
    fs.rmSync(linkDir, { recursive: true, force: true });
  }
}
