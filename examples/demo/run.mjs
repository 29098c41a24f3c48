// Runs the demo under Steward: as PID 1 in a new PID namespace when root, otherwise
// as a child subreaper. Ctrl-C stops it cleanly.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = dirname(fileURLToPath(import.meta.url));
const init = join(demoDir, '..', '..', 'bin', 'steward-init');
const runtime = mkdtempSync(join(tmpdir(), 'steward-demo-'));
const port = process.env.PORT ?? '8080';

const env = {
  ...process.env,
  STEWARD_ETC: join(demoDir, 'etc'),
  STEWARD_RUN: join(runtime, 'run'),
  // Hand the whole environment to services and scripts (s6-overlay's S6_KEEP_ENV).
  S6_KEEP_ENV: '1',
  DEMO_DIR: demoDir,
  DEMO_DATA: join(runtime, 'data'),
  PORT: port,
};

const asRoot = process.getuid?.() === 0;
const [command, args] = asRoot ? ['unshare', ['--pid', '--fork', '--mount-proc', init]] : [process.execPath, [init]];
console.log(`Starting Steward ${asRoot ? 'as PID 1 in a new PID namespace' : 'as a subreaper (run as root for PID 1)'}.`);
console.log(`Open http://127.0.0.1:${port}/ and press Ctrl-C to stop.\n`);

const child = spawn(command, args, { env, stdio: 'inherit' });
// Ctrl-C reaches Steward directly through the terminal; this wrapper only waits.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  rmSync(runtime, { recursive: true, force: true });
  console.log(`\nSteward exited with ${signal ?? `code ${code}`}.`);
  process.exit(code ?? 1);
});
