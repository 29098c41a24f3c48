import { statSync } from 'node:fs';

import type { Diagnostic } from '../../diagnostic.js';
import { followHelperScripts } from '../../config/executable.js';
import { parseFixAttrsFile } from '../../config/fix-attrs.js';
import { legacyPaths } from '../../config/legacy.js';
import { readSettings, type Settings } from '../../config/settings.js';
import { StewardError } from '../../errors.js';
import { compileServices } from '../../init/compile-services.js';
import { imageLacks } from '../../init/image-requirements.js';
import { isOverlayV2Etc } from '../../init/overlay-v2.js';
import { v2PermissionChanges } from '../../init/v2-permissions.js';
import type { Command } from '../command.js';
import { parseOptions, refuseWords } from '../command.js';
import { counted } from '../../util/counted.js';
import { writeOut } from '../output.js';

/** Validates a service tree and reports every problem at once, starting nothing. */
export const checkCommand: Command = {
  name: 'check',
  usage: 'check [--etc DIR] [--json]',
  summary: 'validate the service tree and list every problem',
  help: [
    'Reads /etc/s6-overlay/s6-rc.d (and user-bundles.d), fix-attrs.d, cont-init.d, services.d and',
    'cont-finish.d under DIR (default: STEWARD_ETC, or /etc) and the S6_* variables, checks the service',
    'graph (unknown names, duplicates, cycles, bad types, reserved names), and prints every problem',
    'with the file, the line and what to do.',
    'Exits 0 when there is no error (warnings allowed), 1 otherwise.',
  ].join('\n'),
  run(args) {
    const { flags, values, positional } = parseOptions('check', args, { flags: ['json'], values: ['etc'] });
    refuseWords('check', positional, 'To check a tree, give it with --etc DIR; without --etc, steward check reads /etc');
    const env = { ...process.env };
    const etc = values.get('etc');
    if (etc !== undefined) {
      // A typo, or a COPY the Dockerfile lacks, must not pass as an empty tree.
      if (!isDirectory(etc)) throw new StewardError('ERR_USAGE', `steward check: --etc ${etc} is not a directory`, { hint: 'Give the directory that holds s6-overlay/, services.d/, cont-init.d/... (the image\'s /etc)' });
      env['STEWARD_ETC'] = etc;
    }
    // A process of its own, not PID 1: it may look into the scripts the run scripts call.
    followHelperScripts();
    const { settings, diagnostics: settingProblems } = readSettings(env);
    const compiled = compileServices(settings, env);
    const tree = compiled.tree;
    const fixAttrsProblems: Diagnostic[] = [];
    for (const file of tree.fixAttrsFiles) parseFixAttrsFile(file, fixAttrsProblems);
    // In the image itself (no --etc): what Steward's own commands need of it.
    const imageProblems: Diagnostic[] = etc === undefined ? imageLacks(env['PATH']).map(({ what, hint }) => ({ severity: 'warning', error: new StewardError('ERR_SCRIPT', what, { hint }) })) : [];
    const all = [...settingProblems, ...madeExecutableAtBoot(settings, compiled.diagnostics), ...fixAttrsProblems, ...imageProblems];
    const errors = all.filter((diagnostic) => diagnostic.severity === 'error').length;
    const warnings = all.length - errors;
    if (flags.has('json')) {
      const problems = all.map(({ severity, error }) => ({ severity, code: error.code, path: error.path ?? null, line: error.line ?? null, message: error.message, hint: error.hint ?? null }));
      const services = [...tree.services.map((service) => service.name), ...[...compiled.graph.atomics.values()].filter((atomic) => !atomic.source.startsWith('built in')).map((atomic) => atomic.name)];
      writeOut(`${JSON.stringify({ ok: errors === 0, errors, warnings, services, problems }, null, 2)}\n`);
      return Promise.resolve(errors === 0 ? 0 : 1);
    }
    for (const { severity, error } of all) writeOut(`${severity}: ${error.describe()}\n`);
    const paths = legacyPaths(settings);
    writeOut(`${compiled.summary}, ${counted(tree.fixAttrsFiles.length, 'fix-attrs file')} (services.d: ${paths.services}): ${counted(errors, 'error')}, ${counted(warnings, 'warning')}\n`);
    return Promise.resolve(errors === 0 ? 0 : 1);
  },
};

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * In an image made for s6-overlay v2, a script without its x bit is made executable at boot, as
 * v2 did (see v2-permissions.ts): it will run, so it is a warning, which says what v3 expects.
 */
function madeExecutableAtBoot(settings: Settings, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  if (!isOverlayV2Etc(settings.imageEtcDir)) return [...diagnostics];
  const fixed = new Set(v2PermissionChanges(settings.etcDir).filter((change) => change.makesExecutable).map((change) => change.path));
  return diagnostics.map((diagnostic) => {
    const { error } = diagnostic;
    if (diagnostic.severity !== 'error' || error.path === undefined || !fixed.has(error.path)) return diagnostic;
    return {
      severity: 'warning',
      error: new StewardError(error.code, `${error.message}; in this s6-overlay v2 image the boot makes it executable, as v2 did`, {
        path: error.path,
        ...(error.line === undefined ? {} : { line: error.line }),
        hint: `Make it executable in the image all the same (RUN chmod +x ${error.path}): s6-overlay v3 does not do it`,
      }),
    };
  });
}
