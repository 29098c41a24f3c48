import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { errorMessage } from '../../errors.js';
import type { ServiceSupervisor } from '../../supervise/supervisor.js';
import { dispatch } from '../dispatch.js';
import type { Action } from '../protocol.js';
import { actionsOfLetter } from '../s6-letters.js';
import type { ControlTarget } from '../target.js';
import { openControlFifo, type ControlFifo } from './control-fifo.js';
import { ServiceDir } from './service-dir.js';
import type { StatusFormat } from './status-file.js';

export interface S6SuperviseDirsOptions {
  readonly format: StatusFormat;
  /** The scan directory (/run/service): its .s6-svscan/control answers s6-svscanctl. */
  readonly scanDir: string;
  now(): number;
  /** A service whose directories could not be made, or a bad letter: reported, never thrown. */
  problem(message: string): void;
}

/** The most actions one control request may carry. */
const ACTIONS_PER_REQUEST = 64;
/** s6-svscanctl letters that end s6-svscan, and with it the container. */
const SCAN_STOP_LETTERS = 'tiqb';

/**
 * s6's on-disk supervision interface over Steward's supervisors, for images that keep
 * s6's own tools: each service directory gets what s6-supervise would keep in it, and
 * the scan directory a .s6-svscan/control fifo. What arrives there goes through the
 * same request handler as the control socket, so both paths mean the same.
 */
export class S6SuperviseDirs {
  readonly #dirs = new Map<string, ServiceDir>();
  readonly #closing = new AbortController();
  #scan: ControlFifo | undefined;
  /** Status files whose last write failed: each said when it fails, then not until it was written again. */
  readonly #unwritable = new Set<string>();

  constructor(
    private readonly target: ControlTarget,
    private readonly options: S6SuperviseDirsOptions,
  ) {}

  /** Answers s6-svscanctl on the scan directory. */
  start(): void {
    try {
      const dir = join(this.options.scanDir, '.s6-svscan');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.#scan = openControlFifo(join(dir, 'control'), 0o600, (letters) => this.#onScanLetters(letters));
    } catch (error) {
      this.options.problem(`cannot make ${this.options.scanDir}/.s6-svscan/control for s6-svscanctl: ${errorMessage(error)}`);
    }
  }

  /**
   * Gives a service (again) its supervise/ and event/ directories; called once its live
   * directory is in place, before it starts, as s6-supervise sets them up.
   */
  attach(supervisor: ServiceSupervisor): void {
    this.#dirs.get(supervisor.name)?.close();
    this.#dirs.delete(supervisor.name);
    const dir = new ServiceDir(supervisor, {
      format: this.options.format,
      now: () => this.options.now(),
      applyLetters: (target, letters) => this.#apply(target, letters),
      noteStatusWrite: (path, error) => this.#noteStatusWrite(path, error),
    });
    try {
      dir.open();
    } catch (error) {
      dir.close();
      this.options.problem(`cannot make the s6 supervise directory of ${supervisor.name} in ${supervisor.definition.liveDir}: ${errorMessage(error)}; s6's own s6-svc and s6-svstat will not see it`);
      return;
    }
    this.#dirs.set(supervisor.name, dir);
  }

  /** Drops a service's directories' watch: the service was forgotten (pruned from the scan directory). */
  detach(name: string): void {
    this.#dirs.get(name)?.close();
    this.#dirs.delete(name);
  }

  close(): void {
    this.#closing.abort();
    for (const dir of this.#dirs.values()) dir.close();
    this.#dirs.clear();
    this.#scan?.close();
    this.#scan = undefined;
  }

  #noteStatusWrite(path: string, error: NodeJS.ErrnoException | undefined): void {
    if (error === undefined) {
      this.#unwritable.delete(path);
      return;
    }
    if (this.#unwritable.has(path)) return;
    this.#unwritable.add(path);
    const full = error.code === 'ENOSPC' || error.code === 'EDQUOT';
    this.options.problem(
      `unable to write ${path}: ${error.code ?? error.message}${full ? ' (its file system is full)' : ''}; s6's own s6-svstat and s6-svwait read a stale status until a write succeeds again (said once for this file until then)`,
    );
  }

  async #apply(supervisor: ServiceSupervisor, letters: string): Promise<void> {
    const actions: Action[] = [];
    for (const letter of letters) actions.push(...(actionsOfLetter(letter) ?? []));
    for (let start = 0; start < actions.length; start += ACTIONS_PER_REQUEST) {
      // By directory, as skarnet's s6-svc names it: s6's meaning for that one service, never a change of
      // the graph (steward stop NAME takes down what depends on it too).
      const request = { cmd: 'control', names: [], dirs: [supervisor.definition.liveDir], actions: actions.slice(start, start + ACTIONS_PER_REQUEST), wait: null, timeoutMs: 0 };
      const response = await dispatch(request, { target: this.target, now: () => this.options.now(), abortSignal: this.#closing.signal });
      if (!response.ok && response.error.code !== 'ERR_SHUTTING_DOWN') this.options.problem(`${supervisor.name}: supervise/control: ${response.error.message}`);
    }
  }

  #onScanLetters(letters: string): void {
    if (/[ahnN]/.test(letters)) {
      const outcome = this.target.scan?.(/[hnN]/.test(letters));
      for (const problem of outcome?.problems ?? []) this.options.problem(problem);
    }
    if (![...letters].some((letter) => SCAN_STOP_LETTERS.includes(letter))) return;
    this.target.halt('halt', null, `by s6-svscanctl (${this.options.scanDir}/.s6-svscan/control)`);
  }
}
