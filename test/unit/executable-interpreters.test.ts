import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { followHelperScripts, inspectExecutable } from '../../src/config/executable.js';

const work = mkdtempSync(join(tmpdir(), 'steward-interpreters-'));
after(() => rmSync(work, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text, { mode: 0o755 });
  return path;
}

describe('interpreters that are scripts themselves', () => {
  it('names the interpreter of the interpreter when that one is missing (execlineb is a #!/bin/sh launcher; a distroless image has no /bin/sh)', () => {
    const launcher = script('launcher', '#!/no/such/shell\nexec node "$0" "$@"\n');
    const run = script('run', `#!${launcher} -P\nforeground { echo hi }\n`);
    const messages = inspectExecutable(run, 'run script').map((diagnostic) => diagnostic.error.describe());
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0] ?? '', new RegExp(`the run script asks for the interpreter ${launcher}, a script that itself needs /no/such/shell, which is not installed here`));
  });

  it('says nothing of an interpreter whose own interpreter is there, nor of a binary one', () => {
    const launcher = script('good-launcher', '#!/bin/sh\nexec cat "$@"\n');
    assert.deepEqual(inspectExecutable(script('run-good', `#!${launcher}\nhello\n`), 'run script'), []);
    assert.deepEqual(inspectExecutable(script('run-binary', '#!/bin/sh\necho hi\n'), 'run script'), []);
  });
});

describe("the image's own scripts a run script calls by path", () => {
  it('are looked into only once asked to (steward check): at boot, PID 1 reads no path a script merely names, which a mount that does not answer would hold', () => {
    // A helper that runs an s6-log this machine does not have under that name.
    const helper = script('logutil', '#!/bin/sh\nexec s6-log-not-here-either n20 "$1"\nexec s6-log -b n20 "$1"\n');
    const run = script('log-run', `#!/bin/sh\nexec ${helper} /var/log/app\n`);
    const withoutS6Log = { ...process.env, PATH: '/nonexistent' };
    const saved = process.env['PATH'];
    process.env['PATH'] = withoutS6Log.PATH;
    try {
      assert.deepEqual(inspectExecutable(run, 'run script'), []);
      followHelperScripts();
      const messages = inspectExecutable(run, 'run script').map((diagnostic) => diagnostic.error.describe());
      assert.ok(messages.some((message) => message.includes(`the run script runs ${helper}, which runs s6-log`)), messages.join('\n'));
    } finally {
      process.env['PATH'] = saved;
    }
  });
});

describe("Steward's commands a script runs by s6-overlay v2's paths", () => {
  it('are named when the image lacks them there, with the install that links them, and not when it has them', { skip: (existsSync('/usr/bin/justc-envdir') || existsSync('/usr/bin/with-contenv')) && 'this machine has s6-overlay v2 in /usr/bin' }, () => {
    const run = script('v2-paths', '#!/bin/sh\n/usr/bin/justc-envdir /var/run/s6/container_environment true\nexec /usr/bin/with-contenv sh -c "exec /bin/sh -c true"\n');
    const messages = inspectExecutable(run, 'cont-init script').map((diagnostic) => diagnostic.error.describe());
    assert.equal(messages.length, 2, messages.join('\n'));
    assert.match(messages[0] ?? '', /the cont-init script runs \/usr\/bin\/justc-envdir, which is not installed here.*steward install --usr-bin/s);
    assert.match(messages[1] ?? '', /the cont-init script runs \/usr\/bin\/with-contenv, which is not installed here/);
    // Paths of programs that are none of Steward's say nothing.
    assert.deepEqual(inspectExecutable(script('other-paths', '#!/bin/sh\n/usr/bin/env true\n/bin/true\n'), 'run script'), []);
  });
});

describe("an interpreter of Steward's the image lacks where the shebang looks", () => {
  const paths = ['/command/execlineb', '/usr/bin/with-contenv', '/usr/local/bin/execlineb'];
  it('is named with what puts it there: steward install for /command, --usr-bin for /usr/bin, a link elsewhere', { skip: paths.some((path) => existsSync(path)) && 'this machine has one of them' }, () => {
    const hints = paths.map((interpreter) => {
      const [problem] = inspectExecutable(script(`needs-${basename(dirname(interpreter))}`, `#!${interpreter} sh\necho hi\n`), 'run script');
      return problem?.error.describe() ?? 'no warning';
    });
    assert.match(hints[0] ?? '', /run "steward install" in the image, which links it in \/command/);
    assert.match(hints[1] ?? '', /run "steward install --usr-bin" in the image/);
    assert.match(hints[2] ?? '', /ln -s \/command\/execlineb \/usr\/local\/bin\/execlineb/);
  });
});

describe("Steward's commands a script runs by a v2 path only when it is there", () => {
  it('are not named: the script tests for the path and falls back', { skip: existsSync('/usr/bin/with-contenv') && 'this machine has /usr/bin/with-contenv' }, () => {
    const guarded = script('guarded', '#!/bin/sh\nif [ -x /usr/bin/with-contenv ]; then exec /usr/bin/with-contenv sh -c true; fi\nexec /command/with-contenv sh -c true\n');
    assert.deepEqual(inspectExecutable(guarded, 'run script').map((diagnostic) => diagnostic.error.describe()), []);
  });
});
