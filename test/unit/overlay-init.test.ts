import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyOverlayInit, writtenByInstall } from '../../src/cli/overlay-init.js';

/** The shape of s6-overlay v3's /init: PATH set up, then stage0 through s6-overlay-suexec. */
function overlayInit(globalPath: boolean, extra = ''): string {
  return [
    '#!/bin/sh -e',
    '',
    '# Comments say why PATH is set up here.',
    '',
    'addpath () {',
    '  case ":$PATH:" in *":$1:"*) ;; *) PATH="$1:$PATH" ;; esac',
    '}',
    '',
    ...(globalPath ? ['if test -n "$S6_GLOBAL_PATH" ; then', '  PATH=$S6_GLOBAL_PATH', 'else', '  PATH=/bin', 'fi'] : ['if test -z "$PATH" ; then', '  PATH=/bin', 'fi']),
    '',
    'addpath /bin',
    'addpath /usr/bin',
    'addpath /command',
    'export PATH',
    '',
    extra,
    'exec s6-overlay-suexec \\',
    "  ' /package/admin/s6-overlay-3.2.1.0/libexec/preinit' \\",
    "  '' \\",
    '  /package/admin/s6-overlay-3.2.1.0/libexec/stage0 \\',
    '  "$@"',
    '',
  ].join('\n');
}

describe("s6-overlay's /init, as steward install reads it", () => {
  it("is s6-overlay's alone in each release's shape", () => {
    assert.deepEqual(classifyOverlayInit(overlayInit(false)), { kind: 'stock' });
    assert.deepEqual(classifyOverlayInit(overlayInit(true)), { kind: 'stock' });
  });

  it("keeps the image's lines and starts Steward in place of the exec, with the arguments they leave", () => {
    const added = 'if [ "$#" -gt 0 ]; then is-true "$KEEP_S6_SERVICES" && set -- /init-non-s6 "$@" || exec /init-non-s6 "$@"; fi\n';
    const outcome = classifyOverlayInit(overlayInit(false, added));
    assert.equal(outcome.kind, 'extended');
    if (outcome.kind !== 'extended') return;
    assert.deepEqual(outcome.imageLines, [added.trim()]);
    const script = outcome.withSteward("/opt/my steward/bin/steward-init");
    const lines = script.split('\n');
    assert.equal(lines[0], '#!/bin/sh -e');
    assert.ok(writtenByInstall(script));
    assert.ok(lines.includes(added.trim()));
    assert.ok(lines.includes('export PATH'));
    assert.ok(lines.some((line) => line.includes(`exec "$node" '/opt/my steward/bin/steward-init' "$@"`)), script);
    assert.doesNotMatch(script, /s6-overlay-suexec|stage0 \\/);
    // The image's lines come before Steward starts.
    assert.ok(lines.indexOf(added.trim()) < lines.findIndex((line) => line.includes('exec "$node"')));
  });

  it("keeps the lines an image added to v2's execline /init, and starts Steward in place of stage 1", () => {
    const v2 = ['#!/bin/execlineb -S0', '## comments', '/bin/importas -D /usr/local/bin:/usr/bin:/bin PATH PATH', 'export PATH ${PATH}', 'ifelse { s6-test $# -ne 0 } { $@ }', '/etc/s6/init/init-stage1 $@', ''].join('\n');
    const outcome = classifyOverlayInit(v2);
    assert.equal(outcome.kind, 'extended');
    if (outcome.kind !== 'extended') return;
    assert.deepEqual(outcome.imageLines, ['ifelse { s6-test $# -ne 0 } { $@ }']);
    const lines = outcome.withSteward('/opt/my "steward"/bin/steward-init').split('\n');
    assert.ok(lines.includes('"/opt/my \\"steward\\"/bin/steward-init" $@'), lines.join('\n'));
    assert.ok(!lines.some((line) => line.includes('init-stage1')));
    // v2's own /init, without lines of the image's, is replaced by a link.
    assert.deepEqual(classifyOverlayInit(v2.replace('ifelse { s6-test $# -ne 0 } { $@ }\n', '')), { kind: 'stock' });
  });

  it('says when the image changed the exec itself, so there is nowhere to start Steward', () => {
    const text = overlayInit(false).replace('exec s6-overlay-suexec', 'exec /usr/local/bin/my-entrypoint');
    const outcome = classifyOverlayInit(text);
    assert.equal(outcome.kind, 'unrecognized');
  });

  it('is not taken for a script an earlier install wrote', () => {
    assert.equal(writtenByInstall(overlayInit(false)), false);
  });
});
