import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { withOverlaySources } from '../../src/config/overlay-sources.js';
import { readS6rcDefinitions, s6rcSources } from '../../src/config/s6rc.js';
import { readSettings } from '../../src/config/settings.js';
import { closure, compileGraph } from '../../src/graph/compile.js';
import { compileServices, type CompiledServices } from '../../src/init/compile-services.js';
import { repoRoot } from '../helpers/pid1.js';
import { fixturePath, installFixture, moveUserBundles } from '../helpers/timeline.js';
import { makeTree, removeTree, script, type TreeEntry } from '../helpers/tree.js';

/** What the realistic fixture's scripts get where /command/with-contenv is not linked. */
const WITH_CONTENV_MISSING = /asks for the interpreter \/command\/with-contenv, which is not installed here/;

const roots: string[] = [];
after(() => roots.forEach(removeTree));

const RC = 's6-overlay/s6-rc.d';
const BUNDLES = 's6-overlay/user-bundles.d';

function tree(files: Record<string, TreeEntry>): string {
  const root = makeTree(files);
  roots.push(root);
  return root;
}

function envFor(root: string): NodeJS.ProcessEnv {
  return { STEWARD_ETC: root, STEWARD_RUN: join(root, 'run') };
}

function compile(root: string): CompiledServices {
  const env = envFor(root);
  return compileServices(readSettings(env).settings, env);
}

interface Problem {
  severity: string;
  message: string;
  path: string | undefined;
  line: number | undefined;
  hint: string | undefined;
}

function problems(diagnostics: readonly Diagnostic[]): Problem[] {
  return diagnostics.map(({ severity, error }) => ({ severity, message: error.message, path: error.path, line: error.line, hint: error.hint }));
}

/** The one problem whose message matches, failing with all of them when there is not exactly one. */
function only(found: readonly Problem[], pattern: RegExp): Problem {
  const matching = found.filter((problem) => pattern.test(problem.message));
  assert.equal(matching.length, 1, `${pattern} in:\n${found.map((problem) => `${problem.severity}: ${problem.path ?? ''}: ${problem.message}`).join('\n')}`);
  return matching[0]!;
}

/** A longrun definition in s6-rc.d: type, run, dependencies.d entries (base by default). */
function longrun(name: string, deps: readonly string[] = ['base'], dir = RC): Record<string, TreeEntry> {
  return {
    [`${dir}/${name}/type`]: 'longrun\n',
    [`${dir}/${name}/run`]: script('exec sleep 1000\n'),
    ...Object.fromEntries(deps.map((dep) => [`${dir}/${name}/dependencies.d/${dep}`, ''])),
  };
}

function oneshot(name: string, up: string, deps: readonly string[] = ['base']): Record<string, TreeEntry> {
  return {
    [`${RC}/${name}/type`]: 'oneshot\n',
    [`${RC}/${name}/up`]: up,
    ...Object.fromEntries(deps.map((dep) => [`${RC}/${name}/dependencies.d/${dep}`, ''])),
  };
}

function inUser(...names: string[]): Record<string, TreeEntry> {
  return Object.fromEntries(names.map((name) => [`${RC}/user/contents.d/${name}`, '']));
}

describe('compile-time errors, each naming its file', () => {
  it('a dependency cycle, printed in full', () => {
    const root = tree({ ...longrun('svc-a', ['base', 'svc-b']), ...longrun('svc-b', ['svc-c']), ...longrun('svc-c', ['svc-a']), ...inUser('svc-a') });
    const result = compile(root);
    const cycle = only(problems(result.diagnostics), /dependency cycle/);
    assert.equal(cycle.severity, 'error');
    // Whichever service the search starts from, the three are printed as a closed loop.
    const loop = /dependency cycle: (\S+) -> (\S+) -> (\S+) -> (\S+)$/.exec(cycle.message);
    assert.ok(loop !== null, cycle.message);
    assert.equal(loop[1], loop[4]);
    assert.deepEqual([loop[1], loop[2], loop[3]].sort(), ['svc-a', 'svc-b', 'svc-c']);
    assert.ok(cycle.path?.startsWith(join(root, RC)), cycle.path);
    assert.ok(result.graphErrors);
  });

  it('every independent cycle at once, not the first one alone', () => {
    const root = tree({ ...longrun('a1', ['a2']), ...longrun('a2', ['a1']), ...longrun('b1', ['b2']), ...longrun('b2', ['b1']), ...inUser('a1', 'b1') });
    const cycles = problems(compile(root).diagnostics).filter((problem) => /dependency cycle/.test(problem.message));
    assert.equal(cycles.length, 2, cycles.map((cycle) => cycle.message).join('\n'));
    assert.ok(cycles.some((cycle) => /a1|a2/.test(cycle.message)) && cycles.some((cycle) => /b1|b2/.test(cycle.message)));
  });

  it('a service that depends on itself, directly or through a bundle holding it: warned about, the dependency dropped', () => {
    const root = tree({
      ...longrun('self', ['base', 'self']),
      ...longrun('member', ['base', 'group']),
      [`${RC}/group/type`]: 'bundle\n',
      [`${RC}/group/contents.d/member`]: '',
      ...inUser('self', 'member'),
    });
    const result = compile(root);
    const warnings = problems(result.diagnostics).filter((problem) => /depends on itself/.test(problem.message));
    assert.deepEqual(warnings.map((warning) => warning.severity), ['warning', 'warning']);
    assert.ok(warnings.some((warning) => /member depends on itself \(through the bundle group\)/.test(warning.message)));
    assert.equal(result.graphErrors, false);
  });

  it('bundles that contain each other', () => {
    const root = tree({
      [`${RC}/bundle-a/type`]: 'bundle\n',
      [`${RC}/bundle-a/contents.d/bundle-b`]: '',
      [`${RC}/bundle-b/type`]: 'bundle\n',
      [`${RC}/bundle-b/contents.d/bundle-a`]: '',
      ...inUser('bundle-a'),
    });
    const found = only(problems(compile(root).diagnostics), /bundles contain each other/);
    assert.match(found.message, /bundle-a -> bundle-b -> bundle-a|bundle-b -> bundle-a -> bundle-b/);
  });

  it('an unknown dependency, with "did you mean" for a typo', () => {
    const root = tree({ ...longrun('svc-db'), ...longrun('svc-app', ['base', 'svc-dbb']), ...inUser('svc-app', 'svc-db') });
    const found = only(problems(compile(root).diagnostics), /svc-dbb/);
    assert.equal(found.message, 'service svc-app depends on svc-dbb, which is not defined');
    assert.equal(found.path, join(root, RC, 'svc-app/dependencies.d/svc-dbb'));
    assert.equal(found.hint, 'Did you mean svc-db?');
  });

  it('an old dependencies or contents file beside its directory is ignored, as s6-rc-compile reads the file only without one', () => {
    const root = tree({
      ...longrun('svc-db'),
      ...longrun('svc-app', ['base', 'svc-db']),
      [`${RC}/svc-app/dependencies`]: 'removed-service\n',
      ...inUser('svc-app', 'svc-db'),
      [`${RC}/user/contents`]: 'svc-gone\n',
      // Without a directory, the file is read.
      ...longrun('svc-old', []),
      [`${RC}/svc-old/dependencies`]: '# old format\nsvc-db\n',
    });
    const compiled = compile(root);
    assert.deepEqual(problems(compiled.diagnostics).filter((problem) => problem.severity === 'error'), []);
    assert.ok(!compiled.graph.dependencies.get('svc-app')?.has('removed-service'));
    assert.ok(compiled.graph.dependencies.get('svc-old')?.has('svc-db'), 'the file of a service without dependencies.d/ is read');
  });

  it('an unknown name in a bundle, and one with nothing close: no guess', () => {
    const root = tree({ ...longrun('svc-web'), ...inUser('svc-wbe', 'completely-different-name') });
    const found = problems(compile(root).diagnostics);
    const typo = only(found, /contains svc-wbe/);
    assert.equal(typo.message, 'bundle user contains svc-wbe, which is not defined');
    assert.equal(typo.path, join(root, RC, 'user/contents.d/svc-wbe'));
    assert.equal(typo.hint, 'Did you mean svc-web?');
    assert.doesNotMatch(only(found, /completely-different-name/).hint ?? '', /Did you mean/);
  });

  it('a duplicate: the same name in s6-rc.d and user-bundles.d', () => {
    const root = tree({ ...longrun('svc-web'), ...longrun('svc-web', ['base'], BUNDLES), [`${BUNDLES}/user/contents.d/svc-web`]: '' });
    const found = only(problems(compile(root).diagnostics), /defined twice/);
    assert.equal(found.message, `service svc-web is defined twice: here and in ${join(root, RC, 'svc-web')}`);
    assert.equal(found.path, join(root, BUNDLES, 'svc-web'));
  });

  it('a bad type, at line 1 of the type file', () => {
    const root = tree({ [`${RC}/svc-web/type`]: 'daemon\n', [`${RC}/svc-web/run`]: script(), ...inUser('svc-web') });
    const found = problems(compile(root).diagnostics);
    const type = only(found, /is not oneshot, longrun or bundle/);
    assert.equal(type.message, 'the type "daemon" of service svc-web is not oneshot, longrun or bundle');
    assert.equal(type.path, join(root, RC, 'svc-web/type'));
    assert.equal(type.line, 1);
  });

  it('a type file with CRLF line endings is read, with a warning', () => {
    const root = tree({ [`${RC}/svc-web/type`]: 'longrun\r\n', [`${RC}/svc-web/run`]: script(), [`${RC}/svc-web/dependencies.d/base`]: '', ...inUser('svc-web') });
    const result = compile(root);
    const found = problems(result.diagnostics);
    assert.deepEqual(found.map((problem) => problem.severity), ['warning'], JSON.stringify(found));
    assert.match(found[0]!.message, /CRLF/);
    assert.equal(found[0]!.path, join(root, RC, 'svc-web/type'));
    assert.equal(result.graph.atomics.get('svc-web')?.kind, 'longrun');
    assert.ok(!result.graphErrors);
  });

  it('a down-signal that is no signal is a warning and SIGTERM, as s6-supervise takes it; a number file that is no number is an error, as s6-rc-compile stops on it', () => {
    const root = tree({ ...longrun('svc-web'), [`${RC}/svc-web/down-signal`]: 'FOO\n', ...longrun('svc-db'), [`${RC}/svc-db/timeout-kill`]: '5s\n', ...inUser('svc-web', 'svc-db') });
    const result = compile(root);
    const found = problems(result.diagnostics);
    const about = (file: string): Problem | undefined => found.find((problem) => problem.path?.endsWith(file) === true);
    assert.equal(about('svc-web/down-signal')?.severity, 'warning', JSON.stringify(found));
    assert.match(about('svc-web/down-signal')?.message ?? '', /"FOO" is not a signal/);
    assert.equal(about('svc-db/timeout-kill')?.severity, 'error', JSON.stringify(found));
    const web = result.graph.atomics.get('svc-web');
    assert.equal(web?.kind === 'longrun' ? web.longrun.downSignal : undefined, 'SIGTERM');
  });

  it('a longrun keeps max-death-tally for its supervise/death_tally, 100 by default', () => {
    const root = tree({ ...longrun('svc-web'), [`${RC}/svc-web/max-death-tally`]: '5\n', ...longrun('svc-db'), ...inUser('svc-web', 'svc-db') });
    const { graph } = compile(root);
    const deathTally = (name: string): number | undefined => {
      const atomic = graph.atomics.get(name);
      return atomic?.kind === 'longrun' ? atomic.longrun.maxDeathTally : undefined;
    };
    assert.equal(deathTally('svc-web'), 5);
    assert.equal(deathTally('svc-db'), 100);
  });

  it('no type file, outside the user bundles', () => {
    const root = tree({ [`${RC}/svc-web/run`]: script(), ...inUser('svc-web') });
    const found = only(problems(compile(root).diagnostics), /has no type file/);
    assert.equal(found.path, join(root, RC, 'svc-web/type'));
  });

  for (const name of ['s6rc-x', 's6-rc-oneshot-runner']) {
    it(`a reserved prefix: ${name}`, () => {
      const root = tree({ ...longrun(name), ...inUser(name) });
      const found = problems(compile(root).diagnostics);
      const reserved = only(found, /reserved/);
      assert.equal(reserved.message, `the name ${name} starts with a prefix reserved for s6-rc's own services`);
      assert.equal(reserved.path, join(root, RC, name));
    });
  }

  it("a name of s6-overlay's own services", () => {
    const root = tree({ ...longrun('legacy-services', []) });
    const found = only(problems(compile(root).diagnostics), /belongs to s6-overlay's own services/);
    assert.equal(found.path, join(root, RC, 'legacy-services'));
  });

  it('a oneshot without up, a longrun without run', () => {
    const root = tree({
      [`${RC}/init-app/type`]: 'oneshot\n',
      [`${RC}/init-app/down`]: '/bin/true\n',
      [`${RC}/svc-app/type`]: 'longrun\n',
      [`${RC}/svc-app/finish`]: script(),
      ...inUser('init-app', 'svc-app'),
    });
    const found = problems(compile(root).diagnostics);
    assert.equal(only(found, /oneshot init-app has no up file/).path, join(root, RC, 'init-app/up'));
    assert.equal(only(found, /longrun svc-app has no run file/).path, join(root, RC, 'svc-app/run'));
  });

  it('an unsupported execline construct in a file the interpreter runs, found past its first command', () => {
    const up = 'importas -D /config DIR DIR\nforeground { posix-cd /x }\necho $DIR\n';
    const root = tree({ ...oneshot('init-app', up), ...inUser('init-app') });
    const found = only(problems(compile(root).diagnostics), /execline/);
    assert.equal(found.message, 'the execline command posix-cd is not supported in up and down files');
    assert.equal(found.line, 2);
  });

  it('an unsupported execline construct, naming the file, the line and the construct', () => {
    const up = '# reserve descriptors\nforqueue 2\n/etc/s6-overlay/s6-rc.d/init-app/run\n';
    const root = tree({ ...oneshot('init-app', up), ...inUser('init-app') });
    const found = only(problems(compile(root).diagnostics), /execline/);
    assert.equal(found.message, 'the execline command forqueue is not supported in up and down files');
    assert.equal(found.path, join(root, RC, 'init-app/up'));
    assert.equal(found.line, 2);
    assert.match(found.hint ?? '', /script/);
  });

  it('an up file with variables is run by execlineb; its syntax is checked now', () => {
    const up = '# read the uid\nimportas -D 911 PUID PUID\n/etc/s6-overlay/s6-rc.d/init-app/run $PUID\n';
    const root = tree({ ...oneshot('init-app', up), ...oneshot('init-broken', 'importas X X\nforeground {\n echo $X\n'), ...inUser('init-app', 'init-broken') });
    const result = compile(root);
    const found = only(problems(result.diagnostics), /block/);
    assert.equal(found.path, join(root, RC, 'init-broken/up'));
    assert.equal(found.line, 2);
    const app = result.graph?.atomics.get('init-app');
    assert.ok(app !== undefined && app.kind === 'oneshot', 'init-app compiled');
    assert.deepEqual(app.up, { kind: 'execline-script', file: join(root, RC, 'init-app/up') });
  });

  it('a pipeline-name file outside the last consumer: a warning, and no bundle of that name', () => {
    const root = tree({
      ...longrun('svc-app'),
      [`${RC}/svc-app/producer-for`]: 'svc-app-log\n',
      [`${RC}/svc-app/pipeline-name`]: 'app-pipeline\n',
      ...longrun('svc-app-log'),
      [`${RC}/svc-app-log/consumer-for`]: 'svc-app\n',
      ...inUser('svc-app', 'svc-app-log'),
    });
    const compiled = compile(root);
    const found = only(problems(compiled.diagnostics), /pipeline-name file/);
    assert.equal(found.severity, 'warning');
    assert.match(found.message, /svc-app has a pipeline-name file but is not the last consumer of its pipeline/);
    assert.equal(found.path, join(root, RC, 'svc-app/pipeline-name'));
    assert.ok(!compiled.graph.bundles.has('app-pipeline'));
  });

  it('producer-for without the matching consumer-for', () => {
    const root = tree({
      ...longrun('svc-app'),
      [`${RC}/svc-app/producer-for`]: 'svc-app-log\n',
      ...longrun('svc-app-log'),
      ...inUser('svc-app', 'svc-app-log'),
    });
    const found = only(problems(compile(root).diagnostics), /producer for/);
    assert.match(found.message, /svc-app is a producer for svc-app-log, but svc-app-log does not list it in consumer-for/);
    assert.equal(found.path, join(root, RC, 'svc-app-log/consumer-for'));
  });
});

describe('one error per mistake', () => {
  it('a service directory without a type file is reported once, not again by the bundle that lists it', () => {
    const root = tree({ [`${RC}/svc-d/run`]: script('exec sleep 1000\n'), ...longrun('svc-a'), ...inUser('svc-a', 'svc-d') });
    const found = problems(compile(root).diagnostics);
    assert.equal(found.filter((problem) => problem.path?.includes('svc-d')).length, 1, found.map((problem) => problem.message).join('\n'));
    assert.deepEqual(found.filter((problem) => /not defined/.test(problem.message)), []);
  });
});

describe('names s6-rc-compile does not take as services', () => {
  it('a plain file among the definitions is skipped, and a bundle that lists it names it as not defined', () => {
    const root = tree({ [`${RC}/svc-file`]: 'not a service directory\n', ...longrun('svc-a'), ...inUser('svc-a', 'svc-file') });
    const found = only(problems(compile(root).diagnostics), /not defined/);
    assert.equal(found.message, 'bundle user contains svc-file, which is not defined');
  });

  it('a services.d service named as a bundle or a oneshot runs beside it: only a longrun of its name is a clash', () => {
    const root = tree({
      ...longrun('svc-a'),
      ...inUser('svc-a'),
      'services.d/user/run': script('exec sleep 1000\n'),
      'services.d/legacy-services/run': script('exec sleep 1000\n'),
      'services.d/svc-a/run': script('exec sleep 1000\n'),
    });
    const compiled = compile(root);
    const clashes = problems(compiled.diagnostics).filter((problem) => /defined twice/.test(problem.message));
    assert.deepEqual(
      clashes.map((problem) => problem.message),
      [`service svc-a is defined twice: here and in ${join(root, RC, 'svc-a')}; the services.d one is not started`],
    );
    assert.deepEqual(
      compiled.longruns.map((longrun) => longrun.name).filter((name) => name === 'user' || name === 'legacy-services').sort(),
      ['legacy-services', 'user'],
    );
  });
});

describe('finish scripts', () => {
  it('a finish that cannot be read (a link to nothing) is left out, as s6-rc-compile leaves it out, and the longrun kept', () => {
    const root = tree({ ...longrun('svc-a'), ...longrun('svc-b'), ...inUser('svc-a', 'svc-b'), [`${RC}/svc-b/finish`]: script('exit 0\n') });
    symlinkSync('/no/such/finish', join(root, RC, 'svc-a/finish'));
    const compiled = compile(root);
    const finishOf = (name: string): string | null | undefined => {
      const atomic = compiled.graph.atomics.get(name);
      return atomic?.kind === 'longrun' ? atomic.longrun.finishPath : undefined;
    };
    assert.equal(finishOf('svc-a'), null);
    assert.match(finishOf('svc-b') ?? '', /svc-b\/finish$/);
  });
});

describe('scripts that cannot run stop only their own service', () => {
  it('a longrun whose run script has CRLF line endings is reported, and stays in the graph for the others', () => {
    const root = tree({
      ...longrun('svc-good'),
      [`${RC}/svc-crlf/type`]: 'longrun\n',
      [`${RC}/svc-crlf/run`]: { content: '#!/bin/bash\r\nexec sleep 1000\r\n', mode: 0o755 },
      [`${RC}/svc-crlf/dependencies.d/base`]: '',
      ...inUser('svc-good', 'svc-crlf'),
    });
    const compiled = compile(root);
    const problem = only(problems(compiled.diagnostics), /CRLF/);
    assert.equal(problem.severity, 'error');
    assert.equal(problem.path, join(root, RC, 'svc-crlf/run'));
    assert.equal(compiled.graphErrors, false);
    assert.deepEqual(problems(compiled.diagnostics).filter((found) => /not defined/.test(found.message)), []);
    assert.ok(compiled.graph.atomics.has('svc-good'));
    assert.ok(compiled.graph.atomics.has('svc-crlf'));
  });

  it("the script a oneshot's up runs by its path is checked like a run script", () => {
    const root = tree({
      [`${RC}/init-php/run`]: { content: '#!/bin/sh\necho configuring\n', mode: 0o644 },
      [`${RC}/init-crlf/run`]: { content: '#!/bin/sh\r\necho configuring\r\n', mode: 0o755 },
      ...oneshot('init-php', '# the path is written below\n'),
      ...oneshot('init-crlf', '# the path is written below\n'),
      ...inUser('init-php', 'init-crlf'),
    });
    // As images write them: the absolute path of the script next to the up file.
    for (const name of ['init-php', 'init-crlf']) writeFileSync(join(root, RC, name, 'up'), `${join(root, RC, name, 'run')}\n`);
    const compiled = compile(root);
    const found = problems(compiled.diagnostics);
    const notExecutable = only(found, /is not executable/);
    assert.equal(notExecutable.path, join(root, RC, 'init-php/run'));
    assert.match(notExecutable.message, /script that the up of oneshot init-php runs/);
    assert.match(notExecutable.hint ?? '', /chmod \+x/);
    // A warning: an earlier oneshot may make it executable before it runs (hotio's init-perms).
    assert.equal(notExecutable.severity, 'warning');
    assert.match(notExecutable.message, /unless the boot makes it executable first/);
    assert.equal(compiled.diagnostics.find((diagnostic) => /is not executable/.test(diagnostic.error.message))?.mayChangeAtBoot, true);
    assert.equal(only(found, /CRLF/).path, join(root, RC, 'init-crlf/run'));
    assert.equal(compiled.graphErrors, false);
  });
});

describe("what an image added to s6-overlay's own sources", () => {
  it('compiles the services it put there, and the contents and dependencies it added to base and the stages', () => {
    const root = tree({ ...longrun('svc-app'), ...inUser('svc-app') });
    // As Home Assistant's add-on base patches /package/admin/s6-overlay/etc/s6-rc/sources.
    const overlay = tree({
      'base/type': 'bundle\n',
      'base/contents.d/fix-attrs': '',
      'base/contents.d/legacy-cont-init': '',
      'base/contents.d/base-addon-banner': '',
      'base/contents.d/base-addon-log-level': '',
      'legacy-cont-init/type': 'oneshot\n',
      'legacy-cont-init/up': '/package/admin/s6-overlay/libexec/legacy-cont-init\n',
      'legacy-cont-init/dependencies.d/fix-attrs': '',
      'legacy-cont-init/dependencies.d/base-addon-log-level': '',
      'base-addon-banner/type': 'oneshot\n',
      'base-addon-banner/up': '/bin/true\n',
      'base-addon-log-level/type': 'oneshot\n',
      'base-addon-log-level/up': '/bin/true\n',
      'base-addon-log-level/dependencies.d/base-addon-banner': '',
    });
    const env = envFor(root);
    const compiled = compileServices(readSettings(env).settings, env, { overlaySourcesDir: overlay });
    assert.deepEqual(problems(compiled.diagnostics), []);
    assert.equal(compiled.graphErrors, false);
    const { graph } = compiled;
    assert.ok(graph.atomics.has('base-addon-banner'));
    assert.ok(graph.bundles.get('base')?.includes('base-addon-banner'));
    assert.ok(graph.dependencies.get('legacy-cont-init')?.has('base-addon-log-level'));
    const started = closure(graph, ['top']);
    assert.ok(started.has('base-addon-banner') && started.has('base-addon-log-level'));
    // The stage itself stays Steward's: its up is not the overlay's script.
    const stage = graph.atomics.get('legacy-cont-init');
    assert.equal(stage?.kind === 'oneshot' ? stage.up.kind : undefined, 'builtin');
    assert.deepEqual(compiled.stagesLeftOut, []);
  });

  it('leaves out the stages it took out of base and top (cont-init.d and services.d are then not run), and says which', () => {
    const root = tree({ ...longrun('svc-app'), ...inUser('svc-app') });
    // As hassio-addons' base-no-legacy-s6-overlay leaves them.
    const overlay = tree({
      'base/type': 'bundle\n',
      'base/contents.d/fix-attrs': '',
      'top/type': 'bundle\n',
      'top/contents.d/base': '',
      'top/contents.d/user': '',
      'top/contents.d/user2': '',
    });
    const env = envFor(root);
    const compiled = compileServices(readSettings(env).settings, env, { overlaySourcesDir: overlay });
    assert.deepEqual(problems(compiled.diagnostics), []);
    const started = closure(compiled.graph, ['top']);
    assert.ok(started.has('svc-app') && started.has('fix-attrs'));
    assert.equal(started.has('legacy-cont-init'), false);
    assert.equal(started.has('legacy-services'), false);
    assert.deepEqual(compiled.stagesLeftOut, ['legacy-cont-init (base)', 'legacy-services (top)']);
  });

  it('does not say a stage is left out when a service that depends on it brings it back', () => {
    const root = tree({ ...longrun('svc-late'), 's6-overlay/s6-rc.d/svc-late/dependencies.d/legacy-services': '', 's6-overlay/s6-rc.d/user2/contents.d/svc-late': '' });
    const overlay = tree({ 'top/type': 'bundle\n', 'top/contents.d/base': '', 'top/contents.d/user': '', 'top/contents.d/user2': '' });
    const env = envFor(root);
    const compiled = compileServices(readSettings(env).settings, env, { overlaySourcesDir: overlay });
    assert.equal(closure(compiled.graph, ['top']).has('legacy-services'), true);
    assert.deepEqual(compiled.stagesLeftOut, []);
  });
});

describe('steward check on an s6-rc.d tree', () => {
  const CLI = join(repoRoot, 'bin', 'steward');

  it('reports every error at once, each with its path, exits 1 and starts nothing', () => {
    const marker = join(tree({}), 'ran');
    const root = tree({
      ...longrun('svc-a', ['base', 'svc-b']),
      ...longrun('svc-b', ['svc-a']),
      ...longrun('svc-app', ['base', 'svc-dbb']),
      ...longrun('svc-db'),
      ...longrun('svc-dup'),
      ...longrun('svc-dup', ['base'], BUNDLES),
      [`${RC}/svc-typo/type`]: 'longrunn\n',
      [`${RC}/svc-crlf/type`]: 'oneshot\r\n',
      [`${RC}/svc-crlf/up`]: `touch ${marker}\n`,
      ...longrun('s6rc-mine'),
      [`${RC}/init-noup/type`]: 'oneshot\n',
      [`${RC}/svc-norun/type`]: 'longrun\n',
      ...oneshot('init-importas', 'importas -D x F F\nposix-cd $F true\n'),
      [`${RC}/svc-starts/type`]: 'longrun\n',
      [`${RC}/svc-starts/run`]: script(`touch ${marker}\nexec sleep 1000\n`),
      [`${BUNDLES}/user/contents.d/svc-a`]: '',
      [`${BUNDLES}/user/contents.d/svc-app`]: '',
      [`${BUNDLES}/user/contents.d/svc-starts`]: '',
      [`${BUNDLES}/user/contents.d/svc-crlf`]: '',
    });
    const result = spawnSync(process.execPath, [CLI, 'check', '--etc', root], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    const out = result.stdout;
    assert.equal(result.status, 1, out + result.stderr);
    const expected = [
      `error: ${join(root, RC)}/svc-[ab]: dependency cycle: svc-[ab] -> svc-[ab] -> svc-[ab]`,
      `error: ${join(root, RC, 'svc-app/dependencies.d/svc-dbb')}: service svc-app depends on svc-dbb, which is not defined. Did you mean svc-db\\?`,
      `error: ${join(root, BUNDLES, 'svc-dup')}: service svc-dup is defined twice`,
      `error: ${join(root, RC, 'svc-typo/type')}:1: the type "longrunn" of service svc-typo is not oneshot, longrun or bundle`,
      `warning: ${join(root, RC, 'svc-crlf/type')}: has Windows \\(CRLF\\) line endings`,
      `error: ${join(root, RC, 's6rc-mine')}: the name s6rc-mine starts with a prefix reserved`,
      `error: ${join(root, RC, 'init-noup/up')}: oneshot init-noup has no up file`,
      `error: ${join(root, RC, 'svc-norun/run')}: longrun svc-norun has no run file`,
      `error: ${join(root, RC, 'init-importas/up')}:2: the execline command posix-cd is not supported in up and down files`,
    ];
    for (const line of expected) assert.match(out, new RegExp(`^${line}`, 'm'), `${line}\nnot in:\n${out}`);
    assert.match(out, /: 8 errors, 1 warning\n$/, out);
    assert.ok(!existsSync(marker), 'steward check ran a service');
    assert.ok(!existsSync(join(root, 'run')), 'steward check made a runtime directory');
  });

  it("checks a oneshot's /etc/s6-overlay/... script in the tree given with --etc, not on this host", () => {
    const root = tree({
      ...oneshot('init-x', '/etc/s6-overlay/s6-rc.d/init-x/run\n'),
      [`${RC}/init-x/run`]: script('echo configured\n'),
      ...oneshot('init-y', '/etc/s6-overlay/s6-rc.d/init-y/missing\n'),
      ...inUser('init-x', 'init-y'),
    });
    const result = spawnSync(process.execPath, [CLI, 'check', '--etc', root], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    assert.doesNotMatch(result.stdout, /init-x/, result.stdout);
    // The one that is missing in the tree is named at its place in the tree.
    assert.ok(result.stdout.includes(`${root}/${RC}/init-y/missing: cannot read the script that the up of oneshot init-y runs`), result.stdout);
  });

  it('passes the realistic fixture, in both layouts', () => {
    for (const layout of ['s6-rc.d', 'user-bundles.d']) {
      const root = installFixture(fixturePath(repoRoot, 's6rc-realistic'));
      roots.push(root);
      if (layout === 'user-bundles.d') moveUserBundles(root);
      const result = spawnSync(process.execPath, [CLI, 'check', '--etc', root], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
      assert.equal(result.status, 0, `${layout}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /19 s6-rc services, 1 services.d service, 1 cont-init and 1 cont-finish script .*: 0 errors, \d+ warnings?\n$/, result.stdout);
      // The scripts start with #!/command/with-contenv, which only an image (or a boot) links.
      const warnings = result.stdout.split('\n').filter((line) => line.startsWith('warning: '));
      for (const warning of warnings) assert.match(warning, WITH_CONTENV_MISSING, result.stdout);
      if (existsSync('/command/with-contenv')) assert.deepEqual(warnings, []);
    }
  });
});

describe('the user bundles, in both layouts', () => {
  it('s6-rc.d/user with contents.d and no type file is a bundle; user-bundles.d is then not read', () => {
    const root = tree({
      ...longrun('svc-web'),
      ...inUser('svc-web'),
      [`${RC}/user2/contents.d/svc-late`]: '',
      ...longrun('svc-late', ['base', 'legacy-services']),
      // Left over from an image that also has the new layout: ignored, as s6-overlay does.
      [`${BUNDLES}/user/contents.d/not-defined-anywhere`]: '',
    });
    const env = envFor(root);
    const { settings } = readSettings(env);
    assert.deepEqual(s6rcSources(settings, env).dirs, [join(root, RC)]);
    const result = compile(root);
    assert.deepEqual(problems(result.diagnostics), []);
    assert.deepEqual(result.graph.bundles.get('user'), ['svc-web']);
    assert.deepEqual(result.graph.bundles.get('user2'), ['svc-late']);
  });

  it('user-bundles.d/user and user2 (3.2.3 and later), next to s6-rc.d', () => {
    const root = tree({
      ...longrun('svc-web'),
      ...longrun('svc-late', ['base', 'legacy-services']),
      [`${BUNDLES}/user/contents.d/svc-web`]: '',
      [`${BUNDLES}/user2/contents.d/svc-late`]: '',
    });
    const env = envFor(root);
    const { settings } = readSettings(env);
    assert.deepEqual(s6rcSources(settings, env).dirs, [join(root, RC), join(root, BUNDLES)]);
    const result = compile(root);
    assert.deepEqual(problems(result.diagnostics), []);
    assert.deepEqual(result.graph.bundles.get('user'), ['svc-web']);
    assert.deepEqual(result.graph.bundles.get('user2'), ['svc-late']);
    // user2 after legacy-services, which comes after user: svc-late needs svc-web up first.
    assert.ok(closure(result.graph, ['svc-late']).has('svc-web'));
  });
});

describe('the realistic fixture, compiled', () => {
  const root = installFixture(fixturePath(repoRoot, 's6rc-realistic'));
  roots.push(root);
  const env = envFor(root);
  const { settings } = readSettings(env);
  const diagnostics: Diagnostic[] = [];
  const definitions = readS6rcDefinitions(s6rcSources(settings, env), settings, diagnostics);
  const graph = compileGraph(withOverlaySources(definitions, diagnostics), diagnostics);

  it('has no problem', () => {
    // But #!/command/with-contenv on a host without it, which only an image (or a boot) links.
    assert.deepEqual(
      problems(diagnostics).filter((problem) => !WITH_CONTENV_MISSING.test(problem.message)),
      [],
    );
  });

  it('reads each oneshot up file as the absolute path of the script next to it, and a comment-only up as a no-op', () => {
    const migrations = graph.atomics.get('init-migrations');
    assert.ok(migrations?.kind === 'oneshot');
    assert.deepEqual(migrations.up, {
      kind: 'execline',
      program: { kind: 'exec', argv: [join(root, RC, 'init-migrations/run')] },
      file: join(root, RC, 'init-migrations/up'),
    });
    assert.deepEqual(migrations.down, {
      kind: 'execline',
      program: { kind: 'exec', argv: [join(root, RC, 'init-migrations/cleanup')] },
      file: join(root, RC, 'init-migrations/down'),
    });
    const osEnd = graph.atomics.get('init-os-end');
    assert.ok(osEnd?.kind === 'oneshot');
    assert.deepEqual(osEnd.up, { kind: 'noop' });
  });

  it('makes the pipeline a bundle, the producers depend on their logger, and the user bundle holds it', () => {
    assert.deepEqual([...(graph.bundles.get('app-pipeline') ?? [])].sort(), ['svc-api', 'svc-log', 'svc-worker']);
    for (const producer of ['svc-api', 'svc-worker']) assert.ok(graph.dependencies.get(producer)?.has('svc-log'), producer);
    // A bundle that lists the pipeline, and a dependency on that bundle: on the whole pipeline.
    assert.deepEqual([...(graph.bundles.get('log-pipelines') ?? [])].sort(), ['svc-api', 'svc-log', 'svc-worker']);
    for (const member of ['svc-api', 'svc-log', 'svc-worker']) assert.ok(graph.dependencies.get('svc-cron')?.has(member), member);
    const user = new Set(graph.bundles.get('user'));
    for (const name of ['init-migrations', 'init-services', 'svc-db', 'svc-api', 'svc-worker', 'svc-log', 'svc-optional']) assert.ok(user.has(name), name);
    assert.deepEqual(graph.bundles.get('user2'), ['svc-late']);
  });

  it('hangs every service from base: each starts after cont-init.d', () => {
    const userServices = [...graph.atomics.values()].filter((atomic) => atomic.source.startsWith(root));
    assert.equal(userServices.length, 19);
    for (const atomic of userServices) {
      assert.ok(graph.dependencies.get(atomic.name)?.has('legacy-cont-init'), atomic.name);
    }
    const db = graph.atomics.get('svc-db');
    assert.equal(db?.kind === 'longrun' ? db.longrun.notificationFd : null, 3);
  });
});
