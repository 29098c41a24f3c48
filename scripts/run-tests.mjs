// Runs the test suite with its own temporary directory (TMPDIR), removed afterwards, so the
// service trees, sockets and logs the tests make are not left behind. Arguments go to
// `node --test`; the exit code is the test run's.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'steward-tests-'));
// As /tmp: tests run services as other users, which make files there too.
chmodSync(root, 0o1777);
const child = spawn(process.execPath, ['--test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: root },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => {
  try {
    rmSync(root, { recursive: true, force: true });
  } catch (error) {
    process.stderr.write(`cannot remove the tests' temporary directory ${root}: ${String(error)}\n`);
  }
  process.exitCode = code ?? (signal === null ? 1 : 128 + 15);
});
