import { join } from 'node:path';

import type { Diagnostic } from '../diagnostic.js';
import { readSettings, type Settings } from '../config/settings.js';
import { readRegularFile } from '../sys/regular-file.js';

/**
 * The settings s6-overlay's scripts read with printcontenv when they use them (services-up,
 * services-down, cont-finish, rc.init after the bring-up), so from the container environment
 * as it is then: a cont-init script may have written a new value there (a database add-on
 * gives its dump minutes with S6_SERVICES_GRACETIME and S6_KILL_FINISH_MAXTIME), or removed
 * one (the default then applies, as printcontenv fails). S6_KILL_GRACETIME is s6-overlay's
 * stage 0's, read once; S6_VERBOSITY is read once too, for one level across Steward's lines.
 */
const READ_WHEN_USED = [
  'S6_BEHAVIOUR_IF_STAGE2_FAILS',
  'S6_CMD_WAIT_FOR_SERVICES',
  'S6_CMD_WAIT_FOR_SERVICES_MAXTIME',
  'S6_KILL_FINISH_MAXTIME',
  'S6_SERVICES_GRACETIME',
  'S6_CMD_ARG0',
] as const;

/** A setting's file is a few bytes; anything larger is no setting. */
const MAX_SETTING_BYTES = 4096;

/** The file's content as printcontenv prints it (trailing newlines go with the command substitution), or undefined. */
function readSetting(path: string): string | undefined {
  try {
    return readRegularFile(path, MAX_SETTING_BYTES).toString('utf8').replace(/\n+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * The settings as they are now: `initial` with the ones above read again from the container
 * environment `dir` (none with S6_KEEP_ENV, whose printcontenv reads the process's own
 * environment, which nothing changes). A bad value written there is reported once.
 */
export function liveSettings(initial: Settings, env: NodeJS.ProcessEnv, dir: string | null, report: (diagnostics: readonly Diagnostic[]) => void): () => Settings {
  if (dir === null) return () => initial;
  const reported = new Set<string>();
  return () => {
    const now: NodeJS.ProcessEnv = { ...env };
    const changed: string[] = [];
    for (const name of READ_WHEN_USED) {
      const value = readSetting(join(dir, name));
      if (value === env[name]) continue;
      changed.push(name);
      if (value === undefined) delete now[name];
      else now[name] = value;
    }
    if (changed.length === 0) return initial;
    const { settings, diagnostics } = readSettings(now);
    const fresh = diagnostics.filter(({ error }) => changed.some((name) => error.message.startsWith(`${name}=`)) && !reported.has(error.message));
    for (const { error } of fresh) reported.add(error.message);
    if (fresh.length > 0) report(fresh);
    return {
      ...initial,
      behaviourIfStage2Fails: settings.behaviourIfStage2Fails,
      cmdWaitForServices: settings.cmdWaitForServices,
      cmdWaitForServicesMaxTimeMs: settings.cmdWaitForServicesMaxTimeMs,
      killFinishMaxTimeMs: settings.killFinishMaxTimeMs,
      servicesGraceTimeMs: settings.servicesGraceTimeMs,
      cmdArg0: settings.cmdArg0,
    };
  };
}
