import type { LegacyTree } from '../config/legacy.js';
import { errorMessage } from '../errors.js';
import type { TransitionResult } from '../graph/engine.js';
import type { InitContext } from './context.js';
import { applyFixAttrs } from './fix-attrs.js';
import type { BuiltinStages } from './rc-runner.js';
import { installLiveService } from './runtime-dir.js';
import { runScriptsStage } from './scripts-stage.js';
import type { ServiceSet } from './service-set.js';

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

/** fix-attrs.d, cont-init.d, services.d and cont-finish.d, as s6-overlay's stage oneshots run them. */
export function legacyStages(context: InitContext, tree: LegacyTree, services: ServiceSet): BuiltinStages {
  const legacyNames = tree.services.filter((service) => service.producers.length === 0).map((service) => service.name);
  const allLegacy = tree.services.map((service) => service.name);
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
      for (const name of legacyNames) {
        const definition = tree.services.find((service) => service.name === name);
        if (definition === undefined) continue;
        try {
          installLiveService(context.layout, name, definition.sourceDir, definition.liveDir);
        } catch (error) {
          context.reporter.error('services-up', `cannot copy ${definition.sourceDir} to ${definition.liveDir}: ${errorMessage(error)}`);
        }
        const readiness = definition.notificationFd === null ? ' (no readiness notification)' : '';
        context.reporter.info('services-up', `starting legacy longrun ${name}${readiness}`);
        services.start(name);
      }
      if (!context.settings.cmdWaitForServices || legacyNames.length === 0) return OK;
      const notUp = await services.waitUntilUp(allLegacy, abortSignal, 0);
      if (notUp.length === 0) return OK;
      if (abortSignal.aborted) return { ok: false, reason: `${String(abortSignal.reason)} while waiting for ${notUp.join(', ')}` };
      return judged(context, 'services-up', `some legacy longruns failed to start: ${notUp.join(', ')}`);
    },
    async legacyServicesDown() {
      if (allLegacy.length === 0) return OK;
      context.reporter.info('services-down', `stopping ${legacyNames.length} legacy longruns`);
      const stillUp = await services.stopForGood(allLegacy, context.settings.servicesGraceTimeMs, context.shutdown.reason !== undefined);
      if (stillUp.length === 0) return OK;
      const message = `still running after ${context.settings.servicesGraceTimeMs} ms (S6_SERVICES_GRACETIME): ${stillUp.join(', ')}`;
      context.reporter.warn('services-down', message);
      return { ok: false, reason: message };
    },
  };
}
