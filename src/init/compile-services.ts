import type { Diagnostic } from '../config/diagnostic.js';
import { type LegacyTree, countLegacyServices, readLegacyTree } from '../config/legacy.js';
import { withOverlaySources } from '../config/overlay-sources.js';
import { OVERLAY_SOURCES_DIR, readOverlayPatches, readS6rcDefinitions, s6rcSources } from '../config/s6rc.js';
import type { Settings } from '../config/settings.js';
import { type CompiledGraph, compileGraph } from '../graph/compile.js';
import { listDirents } from '../config/scan.js';
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
}

/**
 * Reads every source into the model, as s6-rc-compile builds its database at each
 * boot: the legacy directories, then /etc/s6-overlay/s6-rc.d (and user-bundles.d) with
 * s6-overlay's own services around them, checked as one graph.
 */
export function compileServices(settings: Settings, env: NodeJS.ProcessEnv, options: { legacyServices?: boolean; overlaySourcesDir?: string } = {}): CompiledServices {
  const readServices = options.legacyServices !== false;
  const tree = readLegacyTree(settings, { services: readServices });
  const rcDiagnostics: Diagnostic[] = [];
  const sources = s6rcSources(settings, env);
  const image = readS6rcDefinitions(sources, settings, rcDiagnostics);
  // What an image added among s6-overlay's own sources (the add-on base images do).
  const patches = readOverlayPatches(options.overlaySourcesDir ?? OVERLAY_SOURCES_DIR, settings, rcDiagnostics);
  for (const [name, definition] of patches.definitions) if (!image.has(name)) image.set(name, definition);
  const definitions = withOverlaySources(image, rcDiagnostics, patches.additions);
  // Directories whose definition could not be read: reported once, not again by each name that lists them.
  const unreadable = new Set(sources.dirs.flatMap((dir) => [...listDirents(dir, []).keys()]).filter((name) => !definitions.has(name)));
  const graph = compileGraph(definitions, rcDiagnostics, unreadable);
  const rcLongruns = [...graph.atomics.values()].flatMap((atomic) => (atomic.kind === 'longrun' ? [atomic.longrun] : []));
  const userServices = [...graph.atomics.values()].filter((atomic) => !atomic.source.startsWith('built in')).length;
  const summary = [
    counted(userServices, 's6-rc service'),
    counted(readServices ? tree.services.length : countLegacyServices(settings), 'services.d service'),
    `${tree.contInit.length} cont-init and ${counted(tree.contFinish.length, 'cont-finish script')}`,
  ].join(', ');
  return {
    tree,
    graph,
    longruns: [...tree.services, ...rcLongruns],
    diagnostics: [...tree.diagnostics, ...rcDiagnostics],
    graphErrors: rcDiagnostics.some((diagnostic) => diagnostic.severity === 'error' && diagnostic.scope !== 'service'),
    legacyErrors: tree.diagnostics.some((diagnostic) => diagnostic.severity === 'error'),
    summary: `${summary} (from ${sources.dirs.join(', ')} and ${settings.etcDir})`,
  };
}
