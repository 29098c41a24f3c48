import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type TreeEntry = string | { content: string; mode?: number } | { dir: true; mode?: number };

/** A shell script with a shebang, mode 0755. */
export function script(body = 'exec true\n', shebang = '#!/bin/sh'): { content: string; mode: number } {
  return { content: `${shebang}\n${body}`, mode: 0o755 };
}

/**
 * Creates a temporary directory holding `files` (paths relative to it, parents created
 * as needed) and returns its path. Files are 0644 unless a mode is given. The root is
 * made 0755 so a test can read it as another user. Directory modes are applied last,
 * deepest first, so a 0000 directory can still be given contents.
 */
export function makeTree(files: Record<string, TreeEntry>): string {
  const root = mkdtempSync(join(tmpdir(), 'steward-test-'));
  chmodSync(root, 0o755);
  const dirModes: [string, number][] = [];
  for (const [relative, entry] of Object.entries(files)) {
    const path = join(root, relative);
    if (typeof entry !== 'string' && 'dir' in entry) {
      mkdirSync(path, { recursive: true });
      if (entry.mode !== undefined) dirModes.push([path, entry.mode]);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    const { content, mode = 0o644 } = typeof entry === 'string' ? { content: entry } : entry;
    writeFileSync(path, content);
    chmodSync(path, mode);
  }
  dirModes.sort(([a], [b]) => b.length - a.length);
  for (const [path, mode] of dirModes) chmodSync(path, mode);
  return root;
}

/** Removes a tree made by makeTree, whatever modes the test left on its directories. */
export function removeTree(root: string): void {
  const unlock = (dir: string): void => {
    try {
      chmodSync(dir, 0o700);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) unlock(join(dir, entry.name));
      }
    } catch {
      // Gone already, or not ours: rmSync reports what matters.
    }
  };
  unlock(root);
  rmSync(root, { recursive: true, force: true });
}

/**
 * makeTree for one test file: every tree it makes is removed after the file's tests.
 * Call it at the top level of the file.
 */
export function treesRemovedAfter(after: (fn: () => void) => void): (files: Record<string, TreeEntry>) => string {
  const roots: string[] = [];
  after(() => {
    for (const root of roots) removeTree(root);
  });
  return (files) => {
    const root = makeTree(files);
    roots.push(root);
    return root;
  };
}
