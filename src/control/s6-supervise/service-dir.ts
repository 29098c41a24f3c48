import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, openSync, renameSync, type Stats, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { isRunning, type ServiceState } from '../../supervise/state.js';
import type { ServiceSupervisor, SupervisorEvent } from '../../supervise/supervisor.js';
import { lockWholeFile } from '../../sys/ffi/descriptors.js';
import { signalNumber } from '../../sys/signals.js';
import { packTai64n } from '../../util/tai64n.js';
import { openControlFifo, type ControlFifo } from './control-fifo.js';
import { makeEventDir, notifyListeners } from './event-dir.js';
import { encodeStatus, type StatusFormat } from './status-file.js';

export interface ServiceDirOptions {
  readonly format: StatusFormat;
  /** Epoch ms. */
  now(): number;
  /** Letters read from supervise/control, to be applied as s6-svc's. Resolves once they are. */
  applyLetters(supervisor: ServiceSupervisor, letters: string): Promise<void>;
  /** How a status file's write went: `error` when it failed (a full /run), undefined when it was written. */
  noteStatusWrite(path: string, error?: NodeJS.ErrnoException): void;
}

/**
 * A supervise/ directory and control fifo the image made itself, owned and moded so that a
 * user other than root may control the service (the group that owns it writes the fifo:
 * smebberson's alpine-consul-nginx lets consul-template reload nginx that way): s6-overlay's
 * copy keeps their owner and mode, and s6-supervise keeps a fifo that is there. The same
 * here, for the live ones; nothing is changed for a service whose image has none.
 */
/** The owner and mode of the image's own supervise/ and supervise/control, where it made them. */
interface ImageOwnership {
  readonly dir: Stats | undefined;
  readonly fifo: Stats | undefined;
}

/**
 * Read before anything is made: a directory supervised where it is (found by a scan of
 * /run/service) is its own image copy, and its fifo is about to be replaced.
 */
function readImageOwnership(imageSupervise: string): ImageOwnership {
  const dir = statOrUndefined(imageSupervise);
  const fifo = statOrUndefined(join(imageSupervise, 'control'));
  return { dir: dir?.isDirectory() === true ? dir : undefined, fifo: fifo?.isFIFO() === true ? fifo : undefined };
}

function keepImageOwnership(image: ImageOwnership, liveSupervise: string): void {
  if (image.dir !== undefined) copyOwnership(image.dir, liveSupervise);
  if (image.fifo !== undefined) copyOwnership(image.fifo, join(liveSupervise, 'control'));
}

function copyOwnership(from: Stats, path: string): void {
  try {
    chownSync(path, from.uid, from.gid);
  } catch {
    // Not root: the mode alone, which this user's own files take.
  }
  chmodSync(path, from.mode & 0o7777);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** One death: when (TAI64N), exit code (128 + signal when killed), signal. */
const DEATH_RECORD_SIZE = 14;

/**
 * The supervise/ and event/ directories s6-supervise keeps in a service directory, kept
 * the same way for one of Steward's supervisors, so that s6's own tools (s6-svc,
 * s6-svstat, s6-svwait, s6-svok, s6-svdt, s6-svlisten) work on it unchanged: a locked
 * supervise/lock, a control fifo, the status file in the layout of the image's s6,
 * the death tally, and an event letter for every listener at each change.
 */
export class ServiceDir {
  readonly #supervisor: ServiceSupervisor;
  readonly #options: ServiceDirOptions;
  readonly #superviseDir: string;
  readonly #eventDir: string;
  #lockFd = -1;
  #control: ControlFifo | undefined;
  #unsubscribe: (() => void) | undefined;
  #unhookDrain: (() => void) | undefined;
  #stampMs: number;
  #readyStampMs: number;
  #waitStatus = 0;

  constructor(supervisor: ServiceSupervisor, options: ServiceDirOptions) {
    this.#supervisor = supervisor;
    this.#options = options;
    this.#superviseDir = join(supervisor.definition.liveDir, 'supervise');
    this.#eventDir = join(supervisor.definition.liveDir, 'event');
    this.#stampMs = options.now();
    this.#readyStampMs = this.#stampMs;
    const last = supervisor.status.lastExit;
    if (last !== null) this.#waitStatus = waitStatusOf(last.code, last.signal);
  }

  /** Creates the directories and starts answering; throws when they cannot be made. */
  open(): void {
    const image = readImageOwnership(join(this.#supervisor.definition.sourceDir, 'supervise'));
    mkdirSync(this.#superviseDir, { recursive: true, mode: 0o700 });
    makeEventDir(this.#eventDir);
    this.#lockFd = openSync(join(this.#superviseDir, 'lock'), 'w', 0o644);
    lockWholeFile(this.#lockFd);
    this.#writeDeathTally();
    this.#writeStatus();
    this.#control = openControlFifo(join(this.#superviseDir, 'control'), 0o600, (letters) => this.#onLetters(letters));
    keepImageOwnership(image, this.#superviseDir);
    this.#unsubscribe = this.#supervisor.subscribe((event) => this.#onEvent(event));
    // A finish script's `s6-svc -d .` (skarnet's, through the fifo) is heard before its exit
    // is acted on, as s6-supervise hears it: else a restart it forbade could come first.
    this.#unhookDrain = this.#supervisor.beforeDeciding(() => this.#control?.drain());
    notifyListeners(this.#eventDir, 's');
  }

  /** Stops answering, as s6-supervise exiting: an x for the listeners, the lock released. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unhookDrain?.();
    this.#unhookDrain = undefined;
    this.#control?.close();
    this.#control = undefined;
    if (this.#lockFd >= 0) closeSync(this.#lockFd);
    this.#lockFd = -1;
    notifyListeners(this.#eventDir, 'x');
  }

  #onLetters(letters: string): void {
    // Letters that change nothing visible (say, O) still change what the status says.
    this.#options.applyLetters(this.#supervisor, letters).then(
      () => this.#writeStatus(),
      () => this.#writeStatus(),
    );
  }

  #onEvent(event: SupervisorEvent): void {
    const now = this.#options.now();
    let letters = '';
    switch (event.type) {
      case 'spawned':
        this.#stampMs = now;
        letters = 'u';
        break;
      case 'exited': {
        this.#stampMs = now;
        const { code, signal } = event.exit;
        this.#waitStatus = waitStatusOf(code, signal);
        this.#writeDeathTally();
        letters = 'd';
        break;
      }
      case 'deaths-cleared':
        this.#writeDeathTally();
        return;
      case 'permanent-failure':
        letters = 'O';
        break;
      case 'state':
        if (event.to === 'ready') {
          this.#readyStampMs = now;
          letters = 'U';
        } else if (isActive(event.from) && !isActive(event.to)) {
          // Down for good or until the restart: "down and ready to start", as s6 says once finish is over.
          this.#readyStampMs = now;
          letters = 'D';
        }
        break;
      default:
        break;
    }
    this.#writeStatus();
    if (letters !== '') notifyListeners(this.#eventDir, letters);
  }

  /** supervise/death_tally from the supervisor's tally: one record per death, oldest first. */
  #writeDeathTally(): void {
    const records = this.#supervisor.deaths.entries.map((death) => {
      const record = Buffer.alloc(DEATH_RECORD_SIZE);
      const signal = death.signal === null ? 0 : signalNumber(death.signal);
      packTai64n(death.at, record, 0);
      record[12] = (death.signal === null ? (death.code ?? 0) : 128 + signal) & 0xff;
      record[13] = signal & 0xff;
      return record;
    });
    this.#replace('death_tally', Buffer.concat(records));
  }

  #writeStatus(): void {
    const status = this.#supervisor.status;
    const running = status.pid !== null;
    const finishing = status.state === 'finishing';
    const bytes = encodeStatus(
      {
        stampMs: this.#stampMs,
        readyStampMs: this.#readyStampMs,
        pid: status.pid ?? 0,
        pgid: status.pid ?? 0,
        waitStatus: this.#waitStatus,
        paused: status.paused,
        finishing,
        wantUp: status.wantUp,
        // s6's meaning: up and said so on its notification-fd, or down with nothing left to clean up.
        ready: running ? status.state === 'ready' : !finishing,
      },
      this.#options.format,
    );
    this.#replace('status', bytes);
  }

  /** Replaces a file in supervise/ at once, as s6 does, so a reader never sees half of it. */
  #replace(name: string, bytes: Buffer): void {
    const path = join(this.#superviseDir, name);
    try {
      writeFileSync(`${path}.new`, bytes);
      renameSync(`${path}.new`, path);
    } catch (error) {
      // ENOENT: the live directory was removed under us (the service is being reinstalled), nothing to keep up to date.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#options.noteStatusWrite(path, error as NodeJS.ErrnoException);
      return;
    }
    this.#options.noteStatusWrite(path);
  }
}

/** The raw wait status s6 keeps: the exit code in the high byte, or the signal number. */
function waitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  return signal === null ? (code ?? 0) << 8 : signalNumber(signal);
}

/** The run process exists, or its finish script runs: not yet "down and ready" for s6. */
function isActive(state: ServiceState): boolean {
  return isRunning(state) || state === 'finishing';
}
