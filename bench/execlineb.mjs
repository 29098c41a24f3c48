#!/usr/bin/env node
// Start cost of an execline run script: Steward's execlineb against skarnet's (Debian's
// execline package), run alternately on the same script in one run. Each sample is the
// time from spawning the interpreter until the script's last program has exited (that
// program writes one line and exits at once), so it is the interpreter's own cost.
//
//   node bench/execlineb.mjs [--reps N] [--keep-node-env]
//
// --keep-node-env  keep the host's NODE_* variables (NODE_EXTRA_CA_CERTS on some machines
//                  adds tens of milliseconds to every Node start); dropped by default, as
//                  in bench/run.mjs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { summarize } from './lib/stats.mjs';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '30' }, 'keep-node-env': { type: 'boolean', default: false } } });
const reps = Number(values.reps);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const stewardTool = join(repo, 'bin', 's6-tool');
const debianExeclineb = '/usr/bin/execlineb';

// A typical run script: environment, descriptors, one foreground block, then the program.
const SCRIPT = `#!/command/execlineb -P
importas -D none HOME HOME
fdmove -c 2 1
foreground { true }
cd /
echo started
`;

const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => values['keep-node-env'] || !name.startsWith('NODE_')));
const work = mkdtempSync(join(tmpdir(), 'steward-bench-execlineb-'));
const script = join(work, 'run');
writeFileSync(script, SCRIPT, { mode: 0o755 });

function once(command, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0 || out !== 'started\n') reject(new Error(`${command} exited ${code} with ${JSON.stringify(out)}`));
      else resolve(ms);
    });
  });
}

const peers = [{ id: 'steward', command: process.execPath, args: [stewardTool, 'execlineb', '-P', script] }];
if (existsSync(debianExeclineb)) peers.push({ id: 'execline', command: debianExeclineb, args: ['-P', script] });
else console.error(`no ${debianExeclineb}: install Debian's execline package to compare (apt-get install execline)`);

const samples = Object.fromEntries(peers.map((peer) => [peer.id, []]));
try {
  for (const peer of peers) await once(peer.command, peer.args); // warm the page cache
  for (let rep = 0; rep < reps; rep++) {
    for (const peer of peers) samples[peer.id].push(await once(peer.command, peer.args));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
for (const peer of peers) {
  const { median, p90, min, max } = summarize(samples[peer.id]);
  console.log(`${peer.id.padEnd(9)} median ${median.toFixed(2)} ms  p90 ${p90.toFixed(2)} ms  min ${min.toFixed(2)} ms  max ${max.toFixed(2)} ms  (n=${reps})`);
}
