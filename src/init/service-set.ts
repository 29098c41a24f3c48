import { setMaxListeners } from 'node:events';
import { closeSync } from 'node:fs';

import type { LongrunDefinition } from '../model/service.js';
import type { Reporter } from '../log/reporter.js';
import type { Clock } from '../supervise/clock.js';
import { type ServiceStatus, ServiceSupervisor, type SupervisorEvent } from '../supervise/supervisor.js';
import { createPipe } from '../sys/ffi.js';
import type { ProcessPort } from '../sys/spawn.js';
import { errorMessage } from '../errors.js';
import { raceWithLimits } from '../util/race.js';

/** The supervised longruns of the container, with the pipes between services and their loggers. */
export class ServiceSet {
  readonly supervisors = new Map<string, ServiceSupervisor>();
  /** Producer name to the pipe Steward holds open, so no line is lost when either side restarts. */
  readonly #pipes = new Map<string, { readFd: number; writeFd: number }>();

  constructor(
    definitions: readonly LongrunDefinition[],
    port: ProcessPort,
    clock: Clock,
    env: NodeJS.ProcessEnv,
    private readonly reporter: Reporter,
  ) {
    for (const definition of definitions) {
      if (definition.loggerName !== null) this.#pipes.set(definition.name, createPipe());
    }
    for (const definition of definitions) {
      const pipeOut = this.#pipes.get(definition.name);
      const pipeIn = definition.producerName === null ? undefined : this.#pipes.get(definition.producerName);
      const supervisor = new ServiceSupervisor(definition, port, clock, {
        stdin: pipeIn?.readFd ?? 'ignore',
        stdout: pipeOut?.writeFd ?? 'inherit',
        stderr: 'inherit',
        env,
      });
      supervisor.subscribe((event, source) => this.#report(event, source));
      this.supervisors.set(definition.name, supervisor);
    }
  }

  /** Brings up a service and its logger (first, so output has a reader), unless they have a `down` file. */
  start(name: string): void {
    const supervisor = this.supervisors.get(name);
    if (supervisor === undefined) return;
    const logger = supervisor.definition.loggerName === null ? undefined : this.supervisors.get(supervisor.definition.loggerName);
    for (const each of logger === undefined ? [supervisor] : [logger, supervisor]) {
      if (each.definition.startsDown) this.reporter.info(`service ${each.name}`, 'not started: it has a down file');
      else each.up();
    }
  }

  /** Resolves with the names not yet up (or ready, for services with a notification fd). */
  async waitUntilUp(abortSignal: AbortSignal, timeoutMs: number): Promise<string[]> {
    const pending = [...this.supervisors.values()].filter((supervisor) => !supervisor.definition.startsDown);
    const isUp = (status: ServiceStatus): boolean => status.ready || status.state === 'failed';
    const giveUp = new AbortController();
    // One listener per service is expected here, not a leak.
    setMaxListeners(0, giveUp.signal);
    const allUp = Promise.all(pending.map((supervisor) => supervisor.waitFor(isUp, giveUp.signal)));
    await raceWithLimits(allUp, abortSignal, timeoutMs);
    giveUp.abort();
    return pending.filter((supervisor) => !supervisor.status.ready).map((supervisor) => supervisor.name);
  }

  /**
   * Stops services with their down-signal, then lets each logger go once its producer is
   * down and the pipe is closed. Resolves with what is still running when the grace time ends.
   */
  async stopAll(graceMs: number): Promise<string[]> {
    const all = [...this.supervisors.values()];
    const stopped = (status: ServiceStatus): boolean => status.state === 'down' || status.state === 'failed';
    const giveUp = new AbortController();
    // One listener per service is expected here, not a leak.
    setMaxListeners(0, giveUp.signal);
    const done = all.map(async (supervisor) => {
      if (supervisor.definition.producerName !== null) {
        supervisor.down({ signal: false });
        await supervisor.waitFor(stopped, giveUp.signal);
        return;
      }
      supervisor.down();
      if (await supervisor.waitFor(stopped, giveUp.signal)) this.#closePipe(supervisor.name);
    });
    await raceWithLimits(Promise.all(done), giveUp.signal, graceMs);
    giveUp.abort();
    return all.filter((supervisor) => !stopped(supervisor.status)).map((supervisor) => supervisor.name);
  }

  #closePipe(producer: string): void {
    const pipe = this.#pipes.get(producer);
    if (pipe === undefined) return;
    this.#pipes.delete(producer);
    closeSync(pipe.writeFd);
    closeSync(pipe.readFd);
  }

  #report(event: SupervisorEvent, supervisor: ServiceSupervisor): void {
    const stage = `service ${supervisor.name}`;
    switch (event.type) {
      case 'spawned':
        this.reporter.info(stage, `started (pid ${event.pid})`);
        return;
      case 'state':
        if (event.to === 'ready') this.reporter.info(stage, 'ready');
        else this.reporter.debug(stage, `${event.from} -> ${event.to}`);
        return;
      case 'exited': {
        const wanted = supervisor.status.wantUp ? '; it will be restarted' : '';
        if (event.exit.requested || !supervisor.status.wantUp) this.reporter.info(stage, `${event.description}${wanted}`);
        else this.reporter.warn(stage, `${event.description} unexpectedly${wanted}`);
        return;
      }
      case 'spawn-error':
        this.reporter.error(stage, `cannot execute ${event.path}: ${errorMessage(event.error)}; retrying in 60 seconds`);
        return;
      case 'finish-timeout':
        this.reporter.warn(stage, `finish script lifetime reached maximum value (${event.timeoutMs} ms) - sending it a SIGKILL`);
        return;
      case 'finish-exited':
        this.reporter.debug(stage, `finish script ${event.termination.signal === null ? `exited ${event.termination.code}` : `killed by ${event.termination.signal}`}`);
        return;
      case 'permanent-failure':
        this.reporter.warn(stage, 'finish script exited 125: the service will not be restarted');
        return;
      case 'throttled':
        this.reporter.debug(stage, `restarting in ${Math.round(event.delayMs)} ms (minimum interval between starts)`);
        return;
    }
  }
}

