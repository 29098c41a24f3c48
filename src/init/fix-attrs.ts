import { chmodSync, chownSync, lchownSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Diagnostic } from '../diagnostic.js';
import { type FixAttrsRule, parseFixAttrsFile } from '../config/fix-attrs.js';
import { StewardError, errnoCode } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import { expandGlob } from '../sys/glob.js';
import { monotonicMs } from '../util/monotonic.js';

/**
 * How long the walk may hold the thread before Node gets to poll: a recursive rule over a large
 * volume takes seconds, in which PID 1 would hear no signal, reap nothing and answer nobody.
 */
const WALK_SLICE_MS = 5;

/**
 * Applies /etc/fix-attrs.d, kept for s6-overlay images that still ship it, a turn of the event
 * loop at a time. Returns false when a file could not be parsed or a path could not be changed;
 * 'stopped' when `stop` was aborted meanwhile (a signal to stop the container), which ends the
 * walk where it is.
 */
export async function applyFixAttrs(files: readonly string[], includeHidden: boolean, reporter: Reporter, stop?: AbortSignal): Promise<boolean | 'stopped'> {
  if (files.length === 0) return true;
  let ok = true;
  const walk = new Walk(stop);
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
          if (!(await walk.apply(path, rule, includeHidden))) return 'stopped';
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

/** One rule's walk over a path and what is below it, yielding the thread every WALK_SLICE_MS. */
class Walk {
  #sliceStart = monotonicMs();

  constructor(private readonly stop: AbortSignal | undefined) {}

  /** False when the stop came meanwhile. Throws, as the first change that fails, ending this path's walk. */
  async apply(named: string, rule: FixAttrsRule, includeHidden: boolean): Promise<boolean> {
    const pending: { path: string; top: boolean }[] = [{ path: named, top: true }];
    for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
      const below = applyTo(entry.path, rule, entry.top);
      if (below !== undefined) {
        for (const name of below.reverse()) if (includeHidden || !name.startsWith('.')) pending.push({ path: join(entry.path, name), top: false });
      }
      if (monotonicMs() - this.#sliceStart >= WALK_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        this.#sliceStart = monotonicMs();
        if (this.stop?.aborted === true) return false;
      }
    }
    return true;
  }
}

/** Changes one path; returns the names below it when the rule goes down into it. */
function applyTo(path: string, rule: FixAttrsRule, top: boolean): string[] | undefined {
  // The named path is followed, as s6-overlay's test -d, chmod and s6-ls follow it: a volume
  // named through a link (/config to /home/app/.config) gets its modes and its contents.
  const stat = top ? statSync(path) : lstatSync(path);
  // Below the named path a symlink is changed itself, never its target (as chown -R does):
  // a link to /etc/shadow inside a volume must not hand that file to the service's user.
  if (!top && stat.isSymbolicLink()) {
    lchownSync(path, rule.uid, rule.gid);
    return undefined;
  }
  chownSync(path, rule.uid, rule.gid);
  if (!stat.isDirectory()) {
    if (!stat.isSymbolicLink() && rule.fileMode !== undefined) chmodSync(path, rule.fileMode);
    return undefined;
  }
  if (rule.dirMode !== undefined) chmodSync(path, rule.dirMode);
  return rule.recurse ? readdirSync(path) : undefined;
}
