import { chmodSync, chownSync, lchownSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Diagnostic } from '../config/diagnostic.js';
import { type FixAttrsRule, parseFixAttrsFile } from '../config/fix-attrs.js';
import { StewardError, errnoCode } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import { expandGlob } from '../sys/glob.js';

/**
 * Applies /etc/fix-attrs.d, kept for s6-overlay images that still ship it.
 * Returns false when a file could not be parsed or a path could not be changed.
 */
export function applyFixAttrs(files: readonly string[], includeHidden: boolean, reporter: Reporter): boolean {
  if (files.length === 0) return true;
  let ok = true;
  for (const file of files) {
    reporter.info('fix-attrs', `applying ${file}`);
    const diagnostics: Diagnostic[] = [];
    const rules = parseFixAttrsFile(file, diagnostics);
    reporter.diagnostics('fix-attrs', diagnostics);
    if (diagnostics.some((diagnostic) => diagnostic.severity === 'error')) ok = false;
    for (const rule of rules) {
      // S6_FIX_ATTRS_HIDDEN widens the recursion only: the path's glob, a shell's, never matches a dot-file.
      for (const path of expandGlob(rule.pattern)) {
        try {
          applyTo(path, rule, includeHidden);
        } catch (error) {
          ok = false;
          const detail = new StewardError('ERR_FIX_ATTRS', `cannot change ${path}: ${errnoCode(error) ?? String(error)}`, {
            path: rule.file,
            line: rule.line,
            hint: 'Check that the path exists; changing owners needs root',
          });
          reporter.error('fix-attrs', detail.describe());
        }
      }
    }
  }
  reporter.warn('fix-attrs', 'fix-attrs is deprecated, please fix volume permissions in your container manager instead');
  return ok;
}

function applyTo(path: string, rule: FixAttrsRule, includeHidden: boolean, top = true): void {
  // The named path is followed, as s6-overlay's test -d, chmod and s6-ls follow it: a volume
  // named through a link (/config to /home/app/.config) gets its modes and its contents.
  const stat = top ? statSync(path) : lstatSync(path);
  // Below the named path a symlink is changed itself, never its target (as chown -R does):
  // a link to /etc/shadow inside a volume must not hand that file to the service's user.
  if (!top && stat.isSymbolicLink()) {
    lchownSync(path, rule.uid, rule.gid);
    return;
  }
  chownSync(path, rule.uid, rule.gid);
  if (!stat.isDirectory()) {
    if (!stat.isSymbolicLink() && rule.fileMode !== undefined) chmodSync(path, rule.fileMode);
    return;
  }
  if (rule.dirMode !== undefined) chmodSync(path, rule.dirMode);
  if (!rule.recurse) return;
  for (const name of readdirSync(path)) {
    if (!includeHidden && name.startsWith('.')) continue;
    applyTo(join(path, name), rule, includeHidden, false);
  }
}
