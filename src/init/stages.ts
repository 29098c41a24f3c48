import { type LegacyTree, readLegacyServices } from '../config/legacy.js';
import type { LongrunDefinition } from '../model/service.js';
import { errorMessage } from '../errors.js';
import type { TransitionResult } from '../graph/engine.js';
import type { InitContext } from './context.js';
import { applyFixAttrs } from './fix-attrs.js';
import type { BuiltinStages } from './rc-runner.js';
import { installLiveService } from './runtime-dir.js';
import { runScriptsStage } from './scripts-stage.js';
import type { ServiceSet } from './service-set.js';
import { stageFailed } from './stage-failure.js';

const OK: TransitionResult = { ok: true };

/**
 * S6_BEHAVIOUR_IF_STAGE2_FAILS for one stage: 0 carries on, 1 carries on with a
 * warning, 2 and above makes the stage fail, which blocks what depends on it and stops
 * the container once the bring-up is over.
 */
function judged(context: InitContext, stage: string, message: string): TransitionResult {
  const policy = context.settings.behaviourIfStage2Fails;
  if (policy >= 1) context.reporter.warn(stage, message);
  return policy >= 2 ? { ok: false, reason: message } : OK;
}

/**
 * services.d as it is when the legacy-services stage runs, after cont-init.d, as
 * s6-overlay copies it then: a cont-init script may add a service, remove one or give it
 * a down file. Services already supervised (the stage brought up again) are kept.
 */
function loadLegacyServices(context: InitContext, services: ServiceSet): LongrunDefinition[] {
  const read = readLegacyServices(context.settings);
  context.reporter.diagnostics('services-up', read.diagnostics);
  if (read.diagnostics.some((diagnostic) => diagnostic.severity === 'error')) {
    stageFailed(context, 'services-up', 'some services.d entries have errors (listed above); what can run will run');
  }
  services.load(read.services.filter((definition) => !services.supervisors.has(definition.name)));
  return read.services;
}

/** fix-attrs.d, cont-init.d, services.d and cont-finish.d, as s6-overlay's stage oneshots run them. */
export function legacyStages(context: InitContext, tree: LegacyTree, services: ServiceSet): BuiltinStages {
  let legacy: LongrunDefinition[] = [];
  return {
    fixAttrs() {
      if (tree.fixAttrsFiles.length === 0) return Promise.resolve(OK);
      const applied = applyFixAttrs(tree.fixAttrsFiles, context.settings.fixAttrsHidden, context.reporter);
      return Promise.resolve(applied ? OK : judged(context, 'fix-attrs', 'some fix-attrs.d lines could not be applied'));
    },
    async contInit(abortSignal) {
      const failures = await runScriptsStage(context, 'cont-init', tree.contInit, { timeLimitMs: 0, abortSignal });
      if (abortSignal.aborted) return { ok: false, reason: String(abortSignal.reason) };
      return failures === 0 ? OK : judged(context, 'cont-init', 'some scripts exited nonzero');
    },
    async contFinish() {
      await runScriptsStage(context, 'cont-finish', tree.contFinish, { timeLimitMs: context.settings.killFinishMaxTimeMs });
      return OK;
    },
    async legacyServicesUp(abortSignal) {
      legacy = loadLegacyServices(context, services);
      // Loggers start with their producers (ServiceSet.start).
      for (const definition of legacy.filter((service) => service.producers.length === 0)) {
        const name = definition.name;
        try {
          installLiveService(context.layout, name, definition.sourceDir, definition.liveDir);
        } catch (error) {
          context.reporter.error('services-up', `cannot copy ${definition.sourceDir} to ${definition.liveDir}: ${errorMessage(error)}`);
        }
        const readiness = definition.notificationFd === null ? ' (no readiness notification)' : '';
        context.reporter.info('services-up', `starting legacy longrun ${name}${readiness}`);
        services.start(name);
      }
      if (!context.settings.cmdWaitForServices || legacy.length === 0) return OK;
      const notUp = await services.waitUntilUp(
        legacy.map((service) => service.name),
        abortSignal,
        0,
      );
      if (notUp.length === 0) return OK;
      if (abortSignal.aborted) return { ok: false, reason: `${String(abortSignal.reason)} while waiting for ${notUp.join(', ')}` };
      return judged(context, 'services-up', `some legacy longruns failed to start: ${notUp.join(', ')}`);
    },
    async legacyServicesDown() {
      if (legacy.length === 0) return OK;
      const names = legacy.map((service) => service.name);
      context.reporter.info('services-down', `stopping ${legacy.filter((service) => service.producers.length === 0).length} legacy longruns`);
      const stillUp = await services.stopForGood(names, context.settings.servicesGraceTimeMs, context.shutdown.reason !== undefined);
      if (stillUp.length === 0) return OK;
      const message = `still running after ${context.settings.servicesGraceTimeMs} ms (S6_SERVICES_GRACETIME): ${stillUp.join(', ')}`;
      context.reporter.warn('services-down', message);
      return { ok: false, reason: message };
    },
  };
}
