import assert from 'node:assert/strict';
import { chmodSync, lstatSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { parseFixAttrsFile, type FixAttrsRule } from '../../src/config/fix-attrs.js';
import { applyFixAttrs } from '../../src/init/fix-attrs.js';
import { Reporter } from '../../src/log/reporter.js';
import { lookupUser } from '../../src/sys/accounts.js';
import { treesRemovedAfter } from '../helpers/tree.js';


const tree = treesRemovedAfter(after);

function parse(text: string): { file: string; rules: FixAttrsRule[]; diagnostics: Diagnostic[] } {
  const file = join(tree({ rules: text }), 'rules');
  const diagnostics: Diagnostic[] = [];
  const rules = parseFixAttrsFile(file, diagnostics);
  return { file, rules, diagnostics };
}

function parseOne(line: string): FixAttrsRule {
  const { rules, diagnostics } = parse(`${line}\n`);
  assert.deepEqual(
    diagnostics.map((diagnostic) => diagnostic.error.describe()),
    [],
  );
  assert.equal(rules.length, 1);
  return rules[0]!;
}

function parseError(text: string): { file: string; diagnostic: Diagnostic } {
  const { file, rules, diagnostics } = parse(text);
  assert.deepEqual(rules, []);
  assert.equal(diagnostics.length, 1);
  return { file, diagnostic: diagnostics[0]! };
}

const isRoot = process.getuid?.() === 0;

describe('parseFixAttrsFile', () => {
  it('reads path, recurse, user:group and both modes', () => {
    const { file, rules } = parse('/var/lib/app true root:root 0640 0750\n');
    assert.deepEqual(rules, [{ file, line: 1, pattern: '/var/lib/app', recurse: true, uid: 0, gid: 0, fileMode: 0o640, dirMode: 0o750 }]);
  });

  it('reads a numeric uid as uid and gid, and a numeric uid:gid pair', () => {
    const single = parseOne('/data false 43210 0644 0755');
    assert.equal(single.recurse, false);
    assert.equal(single.uid, 43210);
    assert.equal(single.gid, 43210);
    const pair = parseOne('/data false 43210:43211 644 755');
    assert.deepEqual([pair.uid, pair.gid, pair.fileMode, pair.dirMode], [43210, 43211, 0o644, 0o755]);
  });

  it('takes the gid of a user name from the passwd file when no group is given', () => {
    const nobody = lookupUser('nobody');
    if (nobody === undefined) return;
    const rule = parseOne('/data true nobody 0644 0755');
    assert.deepEqual([rule.uid, rule.gid], [nobody.uid, nobody.gid]);
  });

  it('uses the fallback uid:gid for an unknown user', () => {
    const rule = parseOne('/data true no-such-user-here,32768:32768 0644 0755');
    assert.deepEqual([rule.uid, rule.gid], [32768, 32768]);
  });

  it('prefers a known user over its fallback (nobody,32768:32768)', () => {
    const nobody = lookupUser('nobody');
    const rule = parseOne('/data true nobody,32768:32768 0644 0755');
    assert.deepEqual([rule.uid, rule.gid], nobody === undefined ? [32768, 32768] : [nobody.uid, nobody.gid]);
  });

  it("falls back per field, as s6-overlay's README says: a known user with an unknown group, and the other way round", () => {
    const root = lookupUser('root');
    assert.ok(root !== undefined, 'every system has root');
    const knownUser = parseOne('/data true root:no-such-group-here,3:4 0644 0755');
    assert.deepEqual([knownUser.uid, knownUser.gid], [root.uid, 4]);
    const knownGroup = parseOne('/data true no-such-user-here:root,3:4 0644 0755');
    assert.deepEqual([knownGroup.uid, knownGroup.gid], [3, 0]);
  });

  it('skips comments and blank lines, and counts them in line numbers', () => {
    const { file, rules, diagnostics } = parse('# owner of the data\n\n   \n  # indented comment\n/data true 0 0644 0755\n/logs false 0 0600 0700\n');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      rules.map((rule) => [rule.file, rule.line, rule.pattern]),
      [
        [file, 5, '/data'],
        [file, 6, '/logs'],
      ],
    );
  });

  it('accepts CRLF lines and tabs between the fields', () => {
    const { rules, diagnostics } = parse('/data\ttrue\t0\t0644\t0755\r\n');
    assert.deepEqual(diagnostics, []);
    assert.equal(rules[0]?.dirMode, 0o755);
  });

  it('keeps the good lines of a file that has a bad one', () => {
    const { rules, diagnostics } = parse('/a true 0 0644 0755\n/b maybe 0 0644 0755\n/c true 0 0644 0755\n');
    assert.deepEqual(
      rules.map((rule) => rule.pattern),
      ['/a', '/c'],
    );
    assert.deepEqual(
      diagnostics.map((diagnostic) => diagnostic.error.line),
      [2],
    );
  });

  const errors: [string, string, RegExp][] = [
    ['too few fields', '/data true root 0644', /expected 5 fields, found 4/],
    ['too many fields', '/data true root 0644 0755 extra', /expected 5 fields, found 6/],
    ['recurse that is not true or false', '/data yes root 0644 0755', /recurse must be true or false, not "yes"/],
    ['a file mode with a non-octal digit', '/data true root 0999 0755', /file mode "0999" is not an octal mode/],
    ['a directory mode that is too long', '/data true root 0644 07555', /directory mode "07555" is not an octal mode/],
    ['a symbolic mode', '/data true root u+rw 0755', /file mode "u\+rw" is not an octal mode/],
    ['an unknown user without a fallback', '/data true no-such-user-here 0644 0755', /unknown user "no-such-user-here"/],
    ['an unknown group', '/data true root:no-such-group-here 0644 0755', /unknown group "no-such-group-here"/],
    ['a fallback that is not uid:gid', '/data true no-such-user-here,app 0644 0755', /fallback "app" is not uid:gid/],
    // Numbers too large for a uid were wrapped round (4294967296 to root) or failed with Node's ERR_OUT_OF_RANGE.
    ['a uid too large for one', '/data true 4294967296 0644 0755', /4294967296 is not a uid \(a number up to 4294967295\)/],
    ['a gid too large for one', '/data true root:4294967296 0644 0755', /4294967296 is not a gid/],
    ['a fallback too large for a uid', '/data true no-such-user-here,4294967296:1 0644 0755', /fallback "4294967296:1" is not uid:gid \(each a number up to 4294967295\)/],
  ];
  for (const [what, line, message] of errors) {
    it(`reports ${what} with the file and the 1-based line`, () => {
      const { file, diagnostic } = parseError(`# header\n${line}\n`);
      assert.equal(diagnostic.severity, 'error');
      assert.equal(diagnostic.error.code, 'ERR_FIX_ATTRS');
      assert.equal(diagnostic.error.path, file);
      assert.equal(diagnostic.error.line, 2);
      assert.match(diagnostic.error.message, message);
      assert.ok(diagnostic.error.describe().startsWith(`${file}:2: `));
    });
  }

  it('reports a file it cannot read', () => {
    const diagnostics: Diagnostic[] = [];
    assert.deepEqual(parseFixAttrsFile('/no/such/fix-attrs/file', diagnostics), []);
    assert.equal(diagnostics[0]?.error.path, '/no/such/fix-attrs/file');
    assert.match(diagnostics[0]?.error.message ?? '', /ENOENT/);
  });
});

describe('applyFixAttrs', () => {
  const rootOnly = { skip: isRoot ? false : 'changing owners needs root' };

  function capture(verbosity = 2): { reporter: Reporter; output: () => string } {
    let text = '';
    return {
      reporter: new Reporter(verbosity, (chunk) => {
        text += chunk;
      }),
      output: () => text,
    };
  }

  function owner(path: string): [number, number, number] {
    const stat = lstatSync(path);
    return [stat.uid, stat.gid, stat.mode & 0o7777];
  }

  function dataTree(): string {
    return tree({
      'data/a.txt': 'a',
      'data/.hidden': 'h',
      'data/sub/b.txt': 'b',
      'single/c.txt': 'c',
    });
  }

  it('does nothing and says nothing without files', async () => {
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([], false, reporter), true);
    assert.equal(output(), '');
  });

  it('changes owner and modes below a path when recurse is true, skipping dot-files', rootOnly, async () => {
    const root = dataTree();
    const rules = tree({ '01-data': `${root}/data true 65534:65534 0600 0700\n` });
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([join(rules, '01-data')], false, reporter), true);
    assert.deepEqual(owner(join(root, 'data')), [65534, 65534, 0o700]);
    assert.deepEqual(owner(join(root, 'data/a.txt')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'data/sub')), [65534, 65534, 0o700]);
    assert.deepEqual(owner(join(root, 'data/sub/b.txt')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'data/.hidden')), [0, 0, 0o644]);
    assert.match(output(), new RegExp(`fix-attrs: info: applying ${join(rules, '01-data')}\n`));
    assert.match(output(), /fix-attrs: warning: fix-attrs is deprecated/);
    assert.doesNotMatch(output(), /error/);
  });

  it('changes dot-files too when hidden files are included', rootOnly, async () => {
    const root = dataTree();
    const rules = tree({ '01-data': `${root}/data true 65534:65534 0600 0700\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-data')], true, capture().reporter), true);
    assert.deepEqual(owner(join(root, 'data/.hidden')), [65534, 65534, 0o600]);
  });

  it("matches no dot-file with the path's glob, hidden files included or not: S6_FIX_ATTRS_HIDDEN widens the recursion only", rootOnly, async () => {
    const root = tree({ 'data/visible': 'v', 'data/.hidden': 'h' });
    const rules = tree({ '01-data': `${root}/data/* false 65534:65534 0600 0700\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-data')], true, capture().reporter), true);
    assert.deepEqual(owner(join(root, 'data/visible')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'data/.hidden')), [0, 0, 0o644]);
  });

  it('leaves a mode given as - as it is, and still changes the owner, as s6-overlay v1 and v2 do', rootOnly, async () => {
    const root = tree({ 'data/file': 'f', 'dir/inner': 'i' });
    chmodSync(join(root, 'data/file'), 0o600);
    chmodSync(join(root, 'dir'), 0o750);
    const rules = tree({ '01-owners': `${root}/data/file false 65534:65534 - -\n${root}/dir false 65534:65534 0644 -\n` });
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([join(rules, '01-owners')], false, reporter), true);
    assert.doesNotMatch(output(), /error/);
    assert.deepEqual(owner(join(root, 'data/file')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'dir')), [65534, 65534, 0o750]);
  });

  it('changes only the path itself when recurse is false', rootOnly, async () => {
    const root = dataTree();
    const rules = tree({ '01-single': `${root}/single false 65534:65534 0640 0750\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-single')], false, capture().reporter), true);
    assert.deepEqual(owner(join(root, 'single')), [65534, 65534, 0o750]);
    assert.deepEqual(owner(join(root, 'single/c.txt')), [0, 0, 0o644]);
  });

  it('applies the file mode to a file named directly', rootOnly, async () => {
    const root = dataTree();
    const rules = tree({ '01-file': `${root}/single/c.txt false 65534:65534 0400 0700\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-file')], false, capture().reporter), true);
    assert.deepEqual(owner(join(root, 'single/c.txt')), [65534, 65534, 0o400]);
  });

  it('expands a glob in the path', rootOnly, async () => {
    const root = tree({ 'conf/x.conf': '', 'conf/y.conf': '', 'conf/z.txt': '' });
    const rules = tree({ '01-conf': `${root}/conf/*.conf false 65534:65534 0600 0700\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-conf')], false, capture().reporter), true);
    assert.deepEqual(owner(join(root, 'conf/x.conf')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'conf/y.conf')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(root, 'conf/z.txt')), [0, 0, 0o644]);
  });

  it('changes a symlink inside a tree, never the file it points to', rootOnly, async () => {
    const outside = tree({ secret: 'do not hand me out' });
    const root = tree({ 'data/a.txt': 'a' });
    symlinkSync(join(outside, 'secret'), join(root, 'data/link'));
    const rules = tree({ '01-data': `${root}/data true 65534:65534 0666 0777\n` });
    assert.equal(await applyFixAttrs([join(rules, '01-data')], false, capture().reporter), true);
    const target = statSync(join(outside, 'secret'));
    assert.deepEqual([target.uid, target.gid, target.mode & 0o7777], [0, 0, 0o644]);
    assert.deepEqual(owner(join(root, 'data/link')).slice(0, 2), [65534, 65534]);
    assert.deepEqual(owner(join(root, 'data/a.txt')), [65534, 65534, 0o666]);
  });

  it('follows a named path that is a link (a volume named through one): the directory it leads to gets its mode, and what is in it too', rootOnly, async () => {
    const root = tree({ 'home/app/.config/config.yaml': 'c', 'home/app/.config/logs/app.log': 'l' });
    const volume = join(root, 'home/app/.config');
    symlinkSync(volume, join(root, 'config'));
    const rules = tree({ '01-volume': `${root}/config true 65534:65534 0600 0700\n` });
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([join(rules, '01-volume')], false, reporter), true);
    assert.doesNotMatch(output(), /error/);
    assert.deepEqual(owner(volume), [65534, 65534, 0o700]);
    assert.deepEqual(owner(join(volume, 'config.yaml')), [65534, 65534, 0o600]);
    assert.deepEqual(owner(join(volume, 'logs')), [65534, 65534, 0o700]);
    assert.deepEqual(owner(join(volume, 'logs/app.log')), [65534, 65534, 0o600]);
  });

  it('reports a path that does not exist with the rule file and line, and returns false', async () => {
    const rules = tree({ '01-missing': '# comment\n/no/such/path/for/fix-attrs false 0 0644 0755\n' });
    const file = join(rules, '01-missing');
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([file], false, reporter), false);
    assert.match(output(), new RegExp(`fix-attrs: error: ${file}:2: cannot change /no/such/path/for/fix-attrs: ENOENT`));
  });

  it('reports a bad line and returns false, still applying the good ones', rootOnly, async () => {
    const root = dataTree();
    const rules = tree({ '01-mixed': `${root}/single false nobody-at-all 0644 0755\n${root}/data false 65534:65534 0600 0700\n` });
    const file = join(rules, '01-mixed');
    const { reporter, output } = capture();
    assert.equal(await applyFixAttrs([file], false, reporter), false);
    assert.match(output(), new RegExp(`fix-attrs: error: ${file}:1: unknown user "nobody-at-all"`));
    assert.deepEqual(owner(join(root, 'data')), [65534, 65534, 0o700]);
    assert.deepEqual(owner(join(root, 'single')).slice(0, 2), [0, 0]);
  });

  it('prints errors but not the info lines at verbosity 0', async () => {
    const rules = tree({ '01-missing': '/no/such/path/for/fix-attrs false 0 0644 0755\n' });
    const { reporter, output } = capture(0);
    assert.equal(await applyFixAttrs([join(rules, '01-missing')], false, reporter), false);
    assert.doesNotMatch(output(), /info|warning/);
    assert.match(output(), /fix-attrs: error: /);
  });

  it('lets the event loop turn during a long walk, and ends it where it is once the stop is asked for', async () => {
    const files: Record<string, string> = {};
    for (let index = 0; index < 20_000; index++) files[`volume/d${index % 100}/f${index}`] = '';
    const root = tree(files);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const rules = tree({ '01-volume': `${root}/volume true ${uid}:${gid} 0600 0700\n` });
    const stop = new AbortController();
    let turns = 0;
    const counting = setInterval(() => {
      turns++;
    }, 0);
    try {
      // Not stopped: the whole volume, and the loop turned meanwhile (the interval ran).
      assert.equal(await applyFixAttrs([join(rules, '01-volume')], false, capture().reporter, stop.signal), true);
      assert.ok(turns > 0, 'the walk held the thread from start to end');
      const paths = Object.keys(files).map((path) => join(root, path));
      assert.deepEqual(paths.filter((path) => (statSync(path).mode & 0o777) !== 0o600), []);
      for (const path of paths) chmodSync(path, 0o644);
      stop.abort('SIGTERM');
      assert.equal(await applyFixAttrs([join(rules, '01-volume')], false, capture().reporter, stop.signal), 'stopped');
      assert.ok(paths.some((path) => (statSync(path).mode & 0o777) === 0o644), 'the walk went on after the stop');
    } finally {
      clearInterval(counting);
    }
  });
});
