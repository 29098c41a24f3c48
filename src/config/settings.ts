import { existsSync } from 'node:fs';

import { StewardError } from '../errors.js';
import { type OomScoreSetting, parseOomScoreSetting } from '../sys/oom-score.js';
import type { Diagnostic } from '../diagnostic.js';

/**
 * Every knob Steward reads from the environment, parsed and defaulted once.
 * Names and defaults follow s6-overlay; STEWARD_* names are Steward's own.
 */
export interface Settings {
  /** 0 errors, 1 warnings, 2 info, 3+ debug (S6_VERBOSITY). */
  readonly verbosity: number;
  /** 0 continue, 1 warn, 2 stop the container (S6_BEHAVIOUR_IF_STAGE2_FAILS). */
  readonly behaviourIfStage2Fails: number;
  readonly cmdWaitForServices: boolean;
  /** 0 waits forever. */
  readonly cmdWaitForServicesMaxTimeMs: number;
  /** Per cont-finish script; 0 lets it run forever. */
  readonly killFinishMaxTimeMs: number;
  readonly servicesGraceTimeMs: number;
  readonly killGraceTimeMs: number;
  readonly keepEnv: boolean;
  /** Words put before the CMD (S6_CMD_ARG0, split on white space as s6-overlay does). */
  readonly cmdArg0: readonly string[];
  readonly fixAttrsHidden: boolean;
  readonly runtimeProfile: string | null;
  /** Minimum ms between two starts of a service (STEWARD_RESTART_THROTTLE). */
  readonly restartThrottleMs: number;
  /** Base of fix-attrs.d, cont-init.d, services.d, cont-finish.d (STEWARD_ETC, or its cont-profile.d/S6_RUNTIME_PROFILE). */
  readonly etcDir: string;
  /** The image's /etc (STEWARD_ETC), whatever the profile: where s6-overlay's own files are. */
  readonly imageEtcDir: string;
  /** Runtime directory, /run unless STEWARD_RUN says otherwise. */
  readonly runDir: string;
  /** 0 everything on the container's output, 1 also a copy in /run/uncaught-logs, 2 only there (S6_LOGGING). */
  readonly logging: number;
  /** The user the catch-all logger writes as (S6_CATCHALL_USER). */
  readonly catchallUser: string | null;
  /** Give the CMD the terminal even when output goes to the catch-all log (S6_CMD_USE_TERMINAL). */
  readonly cmdUseTerminal: boolean;
  /** Signals for the container go to the CMD instead (S6_CMD_RECEIVE_SIGNALS). */
  readonly cmdReceiveSignals: boolean;
  /**
   * Where fix-attrs.d, cont-init.d, services.d and cont-finish.d are read, when not in etcDir:
   * the copy in /run/s6/etc that an s6-overlay v2 image on a read-only root gets (see v2-permissions.ts).
   */
  readonly legacyEtcDir?: string;
  /** The root file system is read-only: /run must be a writable mount (S6_READ_ONLY_ROOT). */
  readonly readOnlyRoot: boolean;
  /** Flush file systems before the container exits (S6_SYNC_DISKS). */
  readonly syncDisks: boolean;
  /** Keep s6's supervise/ directories for s6's own tools (STEWARD_S6_SUPERVISE). */
  readonly s6Supervise: S6SuperviseSetting;
  /** The oom_score_adj of the processes Steward starts (STEWARD_OOM_SCORE_ADJ). */
  readonly oomScoreAdj: OomScoreSetting;
}

/**
 * auto: when the image still has s6-overlay's s6 tools in /command; on: always; off:
 * never. A version (2.11, 2.13.1.0) turns it on and says which status layout to write.
 */
export interface S6SuperviseSetting {
  readonly mode: 'auto' | 'on' | 'off';
  readonly version: readonly number[] | null;
}

interface NumberSpec {
  name: string;
  fallback: number;
  max?: number;
  what: string;
}

function readNumber(env: NodeJS.ProcessEnv, spec: NumberSpec, diagnostics: Diagnostic[]): number {
  const raw = env[spec.name];
  if (raw === undefined || raw.trim() === '') return spec.fallback;
  const text = raw.trim();
  if (!/^\d+$/.test(text)) {
    diagnostics.push({
      severity: 'error',
      error: new StewardError(
        'ERR_SETTING',
        `${spec.name}=${JSON.stringify(raw)} is not ${spec.what}; using the default ${spec.fallback}`,
        { hint: `Set it to digits only, for example ${spec.name}=${spec.fallback}` },
      ),
    });
    return spec.fallback;
  }
  const value = Number(text);
  if (spec.max !== undefined && value > spec.max) {
    diagnostics.push({
      severity: 'warning',
      error: new StewardError('ERR_SETTING', `${spec.name}=${text} is above the maximum ${spec.max}; using ${spec.max}`),
    });
    return spec.max;
  }
  return value;
}

function readFlag(env: NodeJS.ProcessEnv, name: string, diagnostics: Diagnostic[]): boolean {
  return readNumber(env, { name, fallback: 0, what: 'a number (0 for off, 1 for on)' }, diagnostics) !== 0;
}

export function readSettings(env: NodeJS.ProcessEnv): { settings: Settings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const ms = 'a whole number of milliseconds';
  const profile = env['S6_RUNTIME_PROFILE']?.trim() ?? '';
  const etcBase = env['STEWARD_ETC'] ?? '/etc';
  if (profile !== '' && !existsSync(`${etcBase}/cont-profile.d/${profile}`)) {
    diagnostics.push({
      severity: 'warning',
      error: new StewardError('ERR_SETTING', `S6_RUNTIME_PROFILE=${profile}: there is no ${etcBase}/cont-profile.d/${profile}, so no service, script or definition is read`, {
        hint: 'Name a directory of /etc/cont-profile.d, or unset S6_RUNTIME_PROFILE to read /etc',
      }),
    });
  }
  const settings: Settings = {
    verbosity: readNumber(env, { name: 'S6_VERBOSITY', fallback: 2, what: 'a verbosity level from 0 to 5' }, diagnostics),
    behaviourIfStage2Fails: readNumber(
      env,
      { name: 'S6_BEHAVIOUR_IF_STAGE2_FAILS', fallback: 0, what: 'a number: 0 continue, 1 warn, 2 stop the container' },
      diagnostics,
    ),
    cmdWaitForServices: readFlag(env, 'S6_CMD_WAIT_FOR_SERVICES', diagnostics),
    cmdWaitForServicesMaxTimeMs: readNumber(env, { name: 'S6_CMD_WAIT_FOR_SERVICES_MAXTIME', fallback: 0, what: ms }, diagnostics),
    killFinishMaxTimeMs: readNumber(env, { name: 'S6_KILL_FINISH_MAXTIME', fallback: 5000, what: ms }, diagnostics),
    servicesGraceTimeMs: readNumber(env, { name: 'S6_SERVICES_GRACETIME', fallback: 3000, what: ms }, diagnostics),
    killGraceTimeMs: readKillGraceTime(env, diagnostics),
    keepEnv: readFlag(env, 'S6_KEEP_ENV', diagnostics),
    cmdArg0: (env['S6_CMD_ARG0'] ?? '').split(/[ \t\n]+/).filter((word) => word !== ''),
    fixAttrsHidden: readFlag(env, 'S6_FIX_ATTRS_HIDDEN', diagnostics),
    runtimeProfile: profile === '' ? null : profile,
    restartThrottleMs: readNumber(env, { name: 'STEWARD_RESTART_THROTTLE', fallback: 1000, what: ms }, diagnostics),
    etcDir: profile === '' ? etcBase : `${etcBase}/cont-profile.d/${profile}`,
    imageEtcDir: etcBase,
    runDir: env['STEWARD_RUN'] ?? '/run',
    logging: readLogging(env, diagnostics),
    catchallUser: env['S6_CATCHALL_USER']?.trim() || null,
    cmdUseTerminal: readFlag(env, 'S6_CMD_USE_TERMINAL', diagnostics),
    cmdReceiveSignals: readFlag(env, 'S6_CMD_RECEIVE_SIGNALS', diagnostics),
    readOnlyRoot: readFlag(env, 'S6_READ_ONLY_ROOT', diagnostics),
    syncDisks: readFlag(env, 'S6_SYNC_DISKS', diagnostics),
    s6Supervise: readS6Supervise(env, diagnostics),
    oomScoreAdj: readOomScoreAdj(env, diagnostics),
  };
  return { settings, diagnostics };
}

/**
 * S6_KILL_GRACETIME. 0 gives s6-overlay v3's default, as its stage 0 then passes no grace time
 * at all: images set 0 to skip the blind sleep of s6-overlay v2, and got 3000 ms under v3.
 * Steward never sleeps it out anyway: the last stage ends as soon as no process is left.
 */
function readKillGraceTime(env: NodeJS.ProcessEnv, diagnostics: Diagnostic[]): number {
  const fallback = 3000;
  const value = readNumber(env, { name: 'S6_KILL_GRACETIME', fallback, max: 300_000, what: 'a whole number of milliseconds' }, diagnostics);
  return value === 0 ? fallback : value;
}

/**
 * S6_LOGGING: 1 and 2 turn the catch-all log on; any other number leaves everything on the
 * container's output, as s6-overlay's stage 0 reads it (said once, since it is likely a typo).
 */
function readLogging(env: NodeJS.ProcessEnv, diagnostics: Diagnostic[]): number {
  const value = readNumber(env, { name: 'S6_LOGGING', fallback: 0, what: 'a number: 0, 1 or 2' }, diagnostics);
  if (value <= 2) return value;
  diagnostics.push({
    severity: 'warning',
    error: new StewardError('ERR_SETTING', `S6_LOGGING=${value} is not 0, 1 or 2; using 0 (all output on the container's stdout and stderr), as s6-overlay does`, {
      hint: 'Set S6_LOGGING=1 to also keep a copy in /run/uncaught-logs, or 2 to send everything there',
    }),
  });
  return 0;
}

function readOomScoreAdj(env: NodeJS.ProcessEnv, diagnostics: Diagnostic[]): OomScoreSetting {
  const raw = env['STEWARD_OOM_SCORE_ADJ'];
  const setting = parseOomScoreSetting(raw);
  if (setting !== undefined) return setting;
  diagnostics.push({
    severity: 'error',
    error: new StewardError('ERR_SETTING', `STEWARD_OOM_SCORE_ADJ=${JSON.stringify(raw)} is not auto, off or a number from -1000 to 1000; using auto`, {
      hint: 'Leave it unset (auto: the processes Steward starts get an oom_score_adj above its own), set off to leave theirs as PID 1\'s, or give the value',
    }),
  });
  return { mode: 'auto' };
}

function readS6Supervise(env: NodeJS.ProcessEnv, diagnostics: Diagnostic[]): S6SuperviseSetting {
  const raw = env['STEWARD_S6_SUPERVISE'];
  const text = raw?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'auto') return { mode: 'auto', version: null };
  if (text === '0' || text === 'off') return { mode: 'off', version: null };
  if (text === '1' || text === 'on') return { mode: 'on', version: null };
  if (/^\d+(\.\d+)+$/.test(text)) return { mode: 'on', version: text.split('.').map(Number) };
  diagnostics.push({
    severity: 'error',
    error: new StewardError('ERR_SETTING', `STEWARD_S6_SUPERVISE=${JSON.stringify(raw)} is not auto, on, off or an s6 version; using auto`, {
      hint: 'Set it to auto (the default), on, off, or the version of the s6 tools in the image, for example 2.13',
    }),
  });
  return { mode: 'auto', version: null };
}
