import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { expandGlob, globMatches } from '../../src/sys/glob.js';
import { makeTree, removeTree } from '../helpers/tree.js';

describe('expandGlob', () => {
  let root = '';

  before(() => {
    root = makeTree({
      'logs/app.log': '',
      'logs/db.log': '',
      'logs/db.txt': '',
      'logs/.secret.log': '',
      'logs/a1': '',
      'logs/b2': '',
      'logs/c3': '',
      'logs/[x]': '',
      'logs/]bb': '',
      'logs/\\x1': '',
      'logs/weird.name+(1)': '',
      'sites/one/conf': '',
      'sites/two/conf': '',
      'sites/three/other': '',
    });
  });

  after(() => {
    removeTree(root);
  });

  const inRoot = (...paths: string[]): string[] => paths.map((path) => join(root, path));

  it('returns a pattern without wildcards as it is, whether or not it exists', () => {
    assert.deepEqual(expandGlob('/no/such/file'), ['/no/such/file']);
    assert.deepEqual(expandGlob(join(root, 'logs/app.log')), inRoot('logs/app.log'));
  });

  it('expands * to the matching names in byte order', () => {
    assert.deepEqual(expandGlob(join(root, 'logs/*.log')), inRoot('logs/app.log', 'logs/db.log'));
  });

  it('skips dot-files unless the pattern starts with a dot, as the shell does', () => {
    assert.ok(!expandGlob(join(root, 'logs/*')).includes(join(root, 'logs/.secret.log')));
    assert.deepEqual(expandGlob(join(root, 'logs/*.log')), inRoot('logs/app.log', 'logs/db.log'));
    assert.deepEqual(expandGlob(join(root, 'logs/.*.log')), inRoot('logs/.secret.log'));
  });

  it('matches one character with ?', () => {
    assert.deepEqual(expandGlob(join(root, 'logs/??')), inRoot('logs/a1', 'logs/b2', 'logs/c3'));
    assert.deepEqual(expandGlob(join(root, 'logs/db.???')), inRoot('logs/db.log', 'logs/db.txt'));
  });

  it('matches bracket classes, ranges and negated classes', () => {
    assert.deepEqual(expandGlob(join(root, 'logs/[ab][0-9]')), inRoot('logs/a1', 'logs/b2'));
    assert.deepEqual(expandGlob(join(root, 'logs/[!a]?')), inRoot('logs/b2', 'logs/c3'));
  });

  it('treats an unclosed bracket and regular expression characters literally', () => {
    assert.deepEqual(expandGlob(join(root, 'logs/weird.name+(*')), inRoot('logs/weird.name+(1)'));
    assert.deepEqual(expandGlob(join(root, 'logs/[*')), inRoot('logs/[x]'));
  });

  it('keeps only existing paths when a literal segment follows a wildcard', () => {
    assert.deepEqual(expandGlob(join(root, 'sites/*/conf')), inRoot('sites/one/conf', 'sites/two/conf'));
    const none = join(root, 'sites/*/missing');
    assert.deepEqual(expandGlob(none), [none]);
  });

  it('expands wildcards in several path segments', () => {
    assert.deepEqual(expandGlob(join(root, 's*/t*/*')), inRoot('sites/three/other', 'sites/two/conf'));
  });

  it('leaves a pattern that matches nothing as it is, like the shell', () => {
    const pattern = join(root, 'logs/*.gz');
    assert.deepEqual(expandGlob(pattern), [pattern]);
    const throughFile = join(root, 'logs/app.log/*');
    assert.deepEqual(expandGlob(throughFile), [throughFile]);
  });

  it('writes each match as the pattern wrote it, as glob(3): a parent directory, ./ and doubled separators stay', () => {
    const sites = join(root, 'sites');
    assert.deepEqual(expandGlob('../logs/*.log', sites), ['../logs/app.log', '../logs/db.log']);
    assert.deepEqual(expandGlob('./*/conf', sites), ['./one/conf', './two/conf']);
    assert.deepEqual(expandGlob('one//c*', sites), ['one//conf']);
    assert.deepEqual(expandGlob('../s*', sites), ['../sites']);
    assert.deepEqual(expandGlob(`${root}//logs/a*`), [`${root}//logs/a1`, `${root}//logs/app.log`]);
  });

  it('takes a character after a backslash as it is, or the backslash itself with noEscape', () => {
    assert.deepEqual(expandGlob(join(root, 'logs/\\[x\\]')), inRoot('logs/[x]'));
    assert.deepEqual(expandGlob(join(root, 'logs/\\[*')), inRoot('logs/[x]'));
    assert.deepEqual(expandGlob('\\*', root), ['\\*']);
    assert.deepEqual(globMatches('logs/\\x*', root, { noEscape: true }), ['logs/\\x1']);
    assert.deepEqual(globMatches('logs/\\x*', root), []);
  });

  it('matches directories only with a pattern that ends in a slash', () => {
    assert.deepEqual(expandGlob('sites/*/', root), ['sites/one/', 'sites/three/', 'sites/two/']);
    assert.deepEqual(globMatches('logs/*/', root), []);
  });

  it('reads a ] first in a bracket as a character, and POSIX classes', () => {
    assert.deepEqual(globMatches('logs/[]b]*', root), ['logs/]bb', 'logs/b2']);
    assert.deepEqual(globMatches('logs/[!]ab]?', root), ['logs/c3']);
    assert.deepEqual(globMatches('logs/[[:alpha:]][[:digit:]]', root), ['logs/a1', 'logs/b2', 'logs/c3']);
  });

  it('finds a path without wildcards when it exists, as glob(3), and nothing when not', () => {
    assert.deepEqual(globMatches('logs/app.log', root), ['logs/app.log']);
    assert.deepEqual(globMatches('logs/none.log', root), []);
  });

  it('expands a relative pattern against the working directory and returns relative paths', () => {
    const previous = process.cwd();
    process.chdir(join(root, 'logs'));
    try {
      assert.deepEqual(expandGlob('*.log'), ['app.log', 'db.log']);
    } finally {
      process.chdir(previous);
    }
  });
});
