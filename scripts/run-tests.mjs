// Runs the test suite with its own temporary directory (TMPDIR), removed afterwards, so the
// service trees, sockets and logs the tests make are not left behind. Arguments go to
// `node --test`, a directory as the test files under it (*.test.js, .mjs, .cjs): Node 20 finds
// them itself, Node 22 and later take a directory for a file to run. The exit code is the run's.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function testFilesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFilesUnder(path);
      return /\.test\.[cm]?js$/.test(entry.name) ? [path] : [];
    });
}

function isDirectory(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const args = process.argv.slice(2).flatMap((arg) => (!arg.startsWith('-') && isDirectory(arg) ? testFilesUnder(arg) : [arg]));

const root = mkdtempSync(join(tmpdir(), 'steward-tests-'));
// As /tmp: tests run services as other users, which make files there too.
chmodSync(root, 0o1777);
const child = spawn(process.execPath, ['--test', ...args], {
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
