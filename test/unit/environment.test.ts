import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { environmentFormatFor, WITH_CONTENV_PATHS, fixPath, processEnvironment, readContainerEnvironment, writeContainerEnvironment } from '../../src/init/environment.js';
import { StewardError } from '../../src/errors.js';
import { makeTree, removeTree } from '../helpers/tree.js';

const roots: string[] = [];

after(() => {
  for (const root of roots) removeTree(root);
});

function scratch(): string {
  const root = makeTree({});
  roots.push(root);
  return join(root, 'container_environment');
}

describe('fixPath', () => {
  it('gives /command:/usr/bin:/bin when PATH is unset or empty', () => {
    assert.equal(fixPath(undefined), '/command:/usr/bin:/bin');
    assert.equal(fixPath(''), '/command:/usr/bin:/bin');
  });

  it('puts the missing directories in front of an existing PATH', () => {
    assert.equal(fixPath('/usr/local/bin'), '/command:/usr/bin:/bin:/usr/local/bin');
    assert.equal(fixPath('/usr/local/bin:/usr/bin'), '/command:/bin:/usr/local/bin:/usr/bin');
  });

  it('leaves a PATH that has them all unchanged', () => {
    assert.equal(fixPath('/usr/local/bin:/command:/usr/bin:/bin'), '/usr/local/bin:/command:/usr/bin:/bin');
  });

  it('matches whole entries, not prefixes', () => {
    assert.equal(fixPath('/bin2:/usr/bin/x:/commands'), '/command:/usr/bin:/bin:/bin2:/usr/bin/x:/commands');
  });
});

describe('container environment', () => {
  it('names the directory and what to do when it cannot be written', () => {
    const root = makeTree({});
    roots.push(root);
    // A file where a directory should be: as good as a full or read-only /run for the error path.
    writeFileSync(join(root, 's6'), '');
    const dir = join(root, 's6', 'container_environment');
    assert.throws(
      () => writeContainerEnvironment(dir, { A: '1' }),
      (error: unknown) => error instanceof StewardError && error.code === 'ERR_RUNTIME_DIR' && error.message.includes(`cannot write the container environment in ${dir}`),
    );
  });

  it('round-trips values, including a value with newlines', () => {
    const dir = scratch();
    const env = { HOME: '/root', GREETING: 'hello\nworld\n', SPACES: '  padded  ', PATH: '/usr/bin:/bin' };
    writeContainerEnvironment(dir, env);
    assert.deepEqual(readContainerEnvironment(dir), env);
  });

  it('leaves out, and names, a variable whose name no file can have (over 255 bytes), and writes the rest', () => {
    const dir = scratch();
    const long = 'V'.repeat(300);
    assert.deepEqual(writeContainerEnvironment(dir, { [long]: '1', TZ: 'UTC', ['W'.repeat(255)]: '2' }), [long]);
    assert.deepEqual(readContainerEnvironment(dir), { TZ: 'UTC', ['W'.repeat(255)]: '2' });
  });

  it('writes one file per variable holding the value and a newline', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { TZ: 'UTC' });
    assert.equal(readFileSync(join(dir, 'TZ'), 'utf8'), 'UTC\n');
  });

  it('keeps a variable set to the empty string', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { EMPTY: '' });
    assert.equal(readFileSync(join(dir, 'EMPTY'), 'utf8'), '\n');
    assert.deepEqual(readContainerEnvironment(dir), { EMPTY: '' });
  });

  it('reads an empty file as an unset variable', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { KEEP: 'yes', DROP: 'soon' });
    writeFileSync(join(dir, 'DROP'), '');
    const env = readContainerEnvironment(dir);
    assert.deepEqual(env, { KEEP: 'yes' });
    assert.ok(!('DROP' in env));
  });

  it('reads NUL bytes as newlines, as s6-envdir does', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, {});
    writeFileSync(join(dir, 'MULTI'), 'one\0two\n');
    assert.deepEqual(readContainerEnvironment(dir), { MULTI: 'one\ntwo' });
  });

  it('skips names that cannot be files, and unset values', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { 'A/B': 'x', '.hidden': 'x', '': 'x', UNSET: undefined, OK: 'fine' });
    assert.deepEqual(readContainerEnvironment(dir), { OK: 'fine' });
  });

  it('skips dot-files and names with = when reading', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { OK: 'fine' });
    writeFileSync(join(dir, '.profile'), 'x\n');
    writeFileSync(join(dir, 'A=B'), 'x\n');
    assert.deepEqual(readContainerEnvironment(dir), { OK: 'fine' });
  });

  it('replaces what was there before', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { OLD: 'stale' });
    writeContainerEnvironment(dir, { NEW: 'fresh' });
    assert.equal(existsSync(join(dir, 'OLD')), false);
    assert.deepEqual(readContainerEnvironment(dir), { NEW: 'fresh' });
  });

  it('reads a missing directory as an empty environment', () => {
    assert.deepEqual(readContainerEnvironment('/no/such/container_environment'), {});
  });
});

describe('processEnvironment', () => {
  const container = { HOME: '/root', SECRET: 'x', PATH: '/old' };

  it('passes only PATH without S6_KEEP_ENV', () => {
    assert.deepEqual(processEnvironment(false, container, '/command:/usr/bin:/bin'), { PATH: '/command:/usr/bin:/bin' });
  });

  it('passes the whole container environment with S6_KEEP_ENV, PATH replaced', () => {
    assert.deepEqual(processEnvironment(true, container, '/command:/usr/bin:/bin'), { HOME: '/root', SECRET: 'x', PATH: '/command:/usr/bin:/bin' });
    assert.equal(container.PATH, '/old');
  });
});

describe('the format of the container environment', () => {
  /** A /command/with-contenv linked, as s6-overlay links it, into /package/admin/s6-overlay-VERSION. */
  function overlayWithContenv(version: string): string {
    const root = makeTree({ [`package/admin/s6-overlay-${version}/command/with-contenv`]: { content: '#!/command/execlineb -S0\n', mode: 0o755 } });
    roots.push(root);
    mkdirSync(join(root, 'command'));
    symlinkSync(`../package/admin/s6-overlay-${version}/command/with-contenv`, join(root, 'command', 'with-contenv'));
    return join(root, 'command', 'with-contenv');
  }

  it("is bare for the with-contenv of an s6-overlay before 3.2.2.0, which keeps a value's newline", () => {
    assert.equal(environmentFormatFor([overlayWithContenv('3.1.6.2')]), 'bare');
    assert.equal(environmentFormatFor([overlayWithContenv('3.2.0.2')]), 'bare');
    assert.equal(environmentFormatFor([overlayWithContenv('3.2.1.0')]), 'bare');
  });

  it('is a newline after each value from 3.2.2.0 on, for any other with-contenv, and when there is none', () => {
    assert.equal(environmentFormatFor([overlayWithContenv('3.2.2.0')]), 'newline');
    assert.equal(environmentFormatFor([overlayWithContenv('3.3.0.0')]), 'newline');
    const root = makeTree({ 'shims/with-contenv': { content: '#!/bin/sh\n', mode: 0o755 } });
    roots.push(root);
    assert.equal(environmentFormatFor([join(root, 'shims', 'with-contenv')]), 'newline');
    assert.equal(environmentFormatFor([join(root, 'missing', 'with-contenv')]), 'newline');
  });

  it("is bare for s6-overlay v2's own /usr/bin/with-contenv, whose s6-envdir -fn keeps a value's newline", () => {
    const v2 = '#!/bin/execlineb -S0\n/bin/importas -D 0 S6_KEEP_ENV S6_KEEP_ENV\n/bin/ifelse { s6-test ${S6_KEEP_ENV} -eq 0 }\n{\n  /bin/exec -c --\n  /bin/s6-envdir -fn -- /var/run/s6/container_environment\n  /bin/exec --\n  $@\n}\n\n$@\n';
    const current = '#!/command/execlineb -S0\nifelse\n{\n  importas -D 0 S6_KEEP_ENV S6_KEEP_ENV\n  eltest 0${S6_KEEP_ENV} -eq 0\n}\n{\n  emptyenv -p\n  s6-envdir -Lf -- /run/s6/container_environment\n  exec\n  $@\n}\n\n$@\n';
    const root = makeTree({
      'v2/usr/bin/with-contenv': { content: v2, mode: 0o755 },
      'current/usr/bin/with-contenv': { content: current, mode: 0o755 },
      'shell/usr/bin/with-contenv': { content: '#!/bin/sh\n# s6-envdir -fn is what v2 ran\nexec "$@"\n', mode: 0o755 },
    });
    roots.push(root);
    assert.equal(environmentFormatFor([join(root, 'missing', 'with-contenv'), join(root, 'v2', 'usr', 'bin', 'with-contenv')]), 'bare');
    assert.equal(environmentFormatFor([join(root, 'current', 'usr', 'bin', 'with-contenv')]), 'newline');
    assert.equal(environmentFormatFor([join(root, 'shell', 'usr', 'bin', 'with-contenv')]), 'newline');
    // Any one with-contenv that keeps newlines decides: bare values read the same through the others.
    assert.equal(environmentFormatFor([join(root, 'current', 'usr', 'bin', 'with-contenv'), join(root, 'v2', 'usr', 'bin', 'with-contenv')]), 'bare');
  });

  it("is bare for v2.0.0.0 and later's with-contenv, which reads the envdir with justc-envdir, and for linuxserver's with-contenvb behind a bash with-contenv", () => {
    const v2 = '#!/bin/execlineb -S0\n/bin/importas -D 0 S6_KEEP_ENV S6_KEEP_ENV\n/bin/ifelse { s6-test ${S6_KEEP_ENV} -eq 0 }\n{\n  /bin/exec -c --\n  /usr/bin/justc-envdir /var/run/s6/container_environment\n  /bin/exec --\n  $@\n}\n\n$@\n';
    const wrapper = '#!/bin/bash\nif [[ -f /var/run/s6/container_environment/UMASK ]]; then\n  umask "$(cat /var/run/s6/container_environment/UMASK)"\nfi\nexec /usr/bin/with-contenvb "$@"\n';
    const root = makeTree({
      'plain/usr/bin/with-contenv': { content: v2, mode: 0o755 },
      'lsio/usr/bin/with-contenv': { content: wrapper, mode: 0o755 },
      'lsio/usr/bin/with-contenvb': { content: v2.replace('/usr/bin/justc-envdir', 'justc-envdir'), mode: 0o755 },
    });
    roots.push(root);
    assert.equal(environmentFormatFor([join(root, 'plain', 'usr', 'bin', 'with-contenv')]), 'bare');
    assert.equal(environmentFormatFor([join(root, 'lsio', 'usr', 'bin', 'with-contenv')]), 'newline', 'the wrapper alone says nothing');
    assert.equal(environmentFormatFor(['with-contenv', 'with-contenvb'].map((name) => join(root, 'lsio', 'usr', 'bin', name))), 'bare');
    assert.ok(WITH_CONTENV_PATHS.includes('/usr/bin/with-contenvb'), 'the image\'s with-contenvb is looked at');
  });

  it('bare files hold the value alone, and read back the same', () => {
    const dir = scratch();
    writeContainerEnvironment(dir, { PUID: '1000', TWO: 'a\nb' }, 'bare');
    assert.equal(readFileSync(join(dir, 'PUID'), 'utf8'), '1000');
    assert.deepEqual(readContainerEnvironment(dir), { PUID: '1000', TWO: 'a\nb' });
  });
});
