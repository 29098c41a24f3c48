import type { Settings } from '../config/settings.js';
import type { Reporter } from '../log/reporter.js';
import type { Clock } from '../supervise/clock.js';
import type { Reaper } from '../sys/reaper.js';
import type { ProcessPort, StdioTarget } from '../sys/spawn.js';
import type { RuntimeLayout } from './runtime-dir.js';
import type { ShutdownRequest } from './shutdown-request.js';

import type { LateReports } from './late-reports.js';

/** What the boot and shutdown stages share. Built once in main.ts; read-only after. */
export interface InitContext {
  /** As read at the start. */
  readonly settings: Settings;
  /** As they are now: those s6-overlay reads when it uses them, from the container environment (see live-settings.ts). */
  readonly settingsNow: () => Settings;
  readonly reporter: Reporter;
  readonly layout: RuntimeLayout;
  readonly port: ProcessPort;
  readonly clock: Clock;
  readonly reaper: Reaper;
  readonly shutdown: ShutdownRequest;
  /** Environment for services, scripts and the CMD. */
  readonly childEnv: NodeJS.ProcessEnv;
  readonly isPid1: boolean;
  /** An image made for s6-overlay v2 (see overlay-v2.ts): its scripts and signals are v2's. */
  readonly overlayV2: boolean;
  /** The image's working directory, where the CMD runs. */
  readonly workdir: string;
  /** Where children's output goes: the container's, or the catch-all log (S6_LOGGING). */
  readonly output: { readonly stdout: StdioTarget; readonly stderr: StdioTarget };
  /** Why no service can run from the runtime directory (a noexec mount), when none can. */
  readonly runNotExecutable?: string;
  /** What the boot says later, which the last lines wait for (see LateReports). */
  readonly lateReports: LateReports;
  /**
   * With a catch-all log: logs what its pipe still holds. Once every process is gone, before the
   * last lines, so that the services' last output comes before them.
   */
  readonly drainOutput?: () => void;
}
