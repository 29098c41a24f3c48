import type { Diagnostic } from '../diagnostic.js';
import type { ScriptLook } from '../config/executable.js';
import { StewardError } from '../errors.js';
import { type LegacyTree, countLegacyServices, readLegacyTree } from '../config/legacy.js';
import { membersLeftOut, withOverlaySources } from '../config/overlay-sources.js';
import { OVERLAY_SOURCES_DIR, readOverlayPatches, readS6rcDefinitions, s6rcSources } from '../config/s6rc.js';
import type { Settings } from '../config/settings.js';
import { type CompiledGraph, closure, compileGraph } from '../graph/compile.js';
import { isListedDirectory, listDirents } from '../config/scan.js';
import { counted } from '../util/counted.js';
import type { LongrunDefinition } from '../model/service.js';

export interface CompiledServices {
  readonly tree: LegacyTree;
  readonly graph: CompiledGraph;
  /** Every longrun to supervise: services.d (with loggers) and s6-rc.d. */
  readonly longruns: readonly LongrunDefinition[];
  readonly diagnostics: readonly Diagnostic[];
  /** An error in s6-rc.d: the order of the whole graph cannot be trusted (a script that cannot run stops only its service). */
  readonly graphErrors: boolean;
  /** An error in the legacy directories: the faulty items are left out. */
  readonly legacyErrors: boolean;
  readonly summary: string;
  /** What the image's copy of s6-overlay's sources leaves out of base and top (legacy-cont-init: cont-init.d is not run). */
  readonly stagesLeftOut: readonly string[];
  /** With `runScripts: 'later'`, the looks at the s6-rc longruns' run scripts, to make once the boot's starts have gone out. */
  readonly runScriptLooks: readonly ScriptLook[];
}

/**
 * Reads every source into the model, as s6-rc-compile builds its database at each
 * boot: the legacy directories, then /etc/s6-overlay/s6-rc.d (and user-bundles.d) with
 * s6-overlay's own services around them, checked as one graph.
 */
export function compileServices(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  options: { legacyServices?: boolean; overlaySourcesDir?: string; runScripts?: 'now' | 'later' } = {},
): CompiledServices {
  const readServices = options.legacyServices !== false;
  // At boot, cont-init.d and cont-finish.d are counted here and listed and looked at when they run.
  const tree = readLegacyTree(settings, { services: readServices, scripts: options.runScripts === 'later' ? 'counted' : 'checked' });
  const rcDiagnostics: Diagnostic[] = [];
  const sources = s6rcSources(settings, env);
  const runScriptLooks: ScriptLook[] = [];
  const image = readS6rcDefinitions(sources, settings, rcDiagnostics, options.runScripts === 'later' ? runScriptLooks : undefined);
  // What an image added among s6-overlay's own sources (the add-on base images do).
  const patches = readOverlayPatches(options.overlaySourcesDir ?? OVERLAY_SOURCES_DIR, settings, rcDiagnostics);
  for (const [name, definition] of patches.definitions) if (!image.has(name)) image.set(name, definition);
  const definitions = withOverlaySources(image, rcDiagnostics, patches.additions, patches.bundleContents);
  // Directories whose definition could not be read: reported once, not again by each name that lists them.
  // A plain file there is no definition, as s6-rc-compile skips it: a name that lists it is not defined.
  const unreadable = new Set(
    sources.dirs.flatMap((dir) => {
      const entries = listDirents(dir, []);
      return [...entries.keys()].filter((name) => isListedDirectory(dir, entries.get(name)));
    }).filter((name) => !definitions.has(name)),
  );
  const graph = compileGraph(definitions, rcDiagnostics, unreadable);
  const rcLongruns = [...graph.atomics.values()].flatMap((atomic) => (atomic.kind === 'longrun' ? [atomic.longrun] : []));
  // A services.d service named as an s6-rc longrun: both cannot be /run/service/NAME, and
  // s6-rc's is the one the graph orders. Said, and the services.d one left out, as the boot
  // does. A bundle or a oneshot of that name (user, base, top) has no /run/service entry, and
  // both run, as under s6-overlay.
  const clashes = tree.services.filter((service) => service.producers.length === 0 && graph.atomics.get(service.name)?.kind === 'longrun');
  const clashing = new Set(clashes.flatMap((service) => [service.name, ...(service.loggerName === null ? [] : [service.loggerName])]));
  const legacyDiagnostics = [...tree.diagnostics, ...clashes.map((service) => nameClash(service.name, service.sourceDir, graph.atomics.get(service.name)?.source ?? 's6-rc.d'))];
  const userServices = [...graph.atomics.values()].filter((atomic) => !atomic.source.startsWith('built in')).length;
  const summary = [
    counted(userServices, 's6-rc service'),
    // Loggers (log/ sub-directories) go with their service, as the boot counts them.
    counted(readServices ? tree.services.filter((service) => service.producers.length === 0).length : countLegacyServices(settings), 'services.d service'),
    `${tree.contInit.length} cont-init and ${counted(tree.contFinish.length, 'cont-finish script')}`,
  ].join(', ');
  return {
    tree,
    graph,
    longruns: [...tree.services.filter((service) => !clashing.has(service.name)), ...rcLongruns],
    diagnostics: [...legacyDiagnostics, ...rcDiagnostics],
    graphErrors: rcDiagnostics.some((diagnostic) => diagnostic.severity === 'error' && diagnostic.scope !== 'service'),
    legacyErrors: legacyDiagnostics.some((diagnostic) => diagnostic.severity === 'error'),
    summary: `${summary} (from ${sources.dirs.join(', ')} and ${settings.etcDir})`,
    // Said only of a stage nothing else brings back in (a user2 service that depends on legacy-services does).
    stagesLeftOut: stagesNotStarted(membersLeftOut(patches.bundleContents), graph),
    runScriptLooks,
  };
}

/** Of the members left out ("legacy-services (top)"), those the boot does not start after all. */
function stagesNotStarted(leftOut: readonly string[], graph: CompiledGraph): string[] {
  const started = closure(graph, ['top']);
  return leftOut.filter((entry) => !started.has(entry.slice(0, entry.indexOf(' '))));
}

/** A services.d service that has the name of an s6-rc one (defined at `rcSource`). */
export function nameClash(name: string, servicesDirPath: string, rcSource: string): Diagnostic {
  return {
    severity: 'error',
    error: new StewardError('ERR_CONFIG', `service ${name} is defined twice: here and in ${rcSource}; the services.d one is not started`, {
      path: servicesDirPath,
      hint: `Rename one of them: both would be /run/service/${name}`,
    }),
  };
}
