// Runs the PID 1 and end-to-end suites again on the oldest Node.js release Steward starts on
// (bin/node-version.cjs): 18.19.0, the nodejs of Debian 12 and Ubuntu 24.04, which images
// built on them install with apt. Its build comes from the npm registry (the node-linux-<arch>
// package) into node_modules/.cache; the tests run as built by `npm run build` (or `npm test`).
// The unit tests stay on the Node that runs `npm test`: some use test-runner APIs of Node 20.
// Node 18 has no --test-concurrency, and runs as many files at once as the machine has CPUs
// but one: each file is run on its own here instead, one after the other, as `npm test` does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELEASE = '18.19.0';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(repo, 'node_modules', '.cache', `node-${RELEASE}`);
const packageName = `node-${process.platform}-${process.arch}`;
const binDir = join(prefix, 'node_modules', packageName, 'bin');
const node = join(binDir, 'node');

function run(file, args, options = {}) {
  const result = spawnSync(file, args, { stdio: 'inherit', cwd: repo, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!existsSync(join(repo, '.build', 'test', 'pid1'))) {
  process.stderr.write('test-oldest-node: no built tests in .build/: run `npm run build` (or `npm test`) first\n');
  process.exit(1);
}
if (!existsSync(node)) {
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = run(npm, ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `${packageName}@${RELEASE}`]);
  if (status !== 0 || !existsSync(node)) {
    process.stderr.write(`test-oldest-node: could not install ${packageName}@${RELEASE} from the npm registry\n`);
    process.exit(1);
  }
}
// First in PATH: bin/steward and the /command tools start the node they find there.
const env = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
const files = ['.build/test/pid1', 'test/e2e'].flatMap((dir) =>
  readdirSync(join(repo, dir)).filter((name) => /\.test\.[cm]?js$/.test(name)).sort().map((name) => join(dir, name)));
const failed = files.filter((file) => run(node, ['scripts/run-tests.mjs', file], { env }) !== 0);
process.stdout.write(`\ntest-oldest-node: ${files.length - failed.length} of ${files.length} test files pass on Node ${RELEASE}\n`);
for (const file of failed) process.stdout.write(`  failed: ${file}\n`);
process.exit(failed.length === 0 ? 0 : 1);
