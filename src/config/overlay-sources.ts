import { StewardError } from '../errors.js';
import type { RcBundle, RcDefinition, RcOneshot } from '../model/rc.js';
import type { Diagnostic } from '../diagnostic.js';

const BUILT_IN = 'built in (s6-overlay stage)';

function stage(name: string, stageId: 'fix-attrs' | 'legacy-cont-init' | 'legacy-services', dependencies: string[]): RcOneshot {
  return {
    kind: 'oneshot',
    name,
    source: BUILT_IN,
    dependencies,
    timeoutUpMs: 0,
    timeoutDownMs: 0,
    essential: false,
    up: { kind: 'builtin', stage: stageId },
    down: { kind: 'builtin', stage: stageId },
    downAfterPartialUp: true,
  };
}

function bundle(name: string, contents: string[]): RcBundle {
  return { kind: 'bundle', name, source: BUILT_IN, contents, essential: false };
}

/** What s6-overlay's own bundles hold: base, its stages before the user's services; top, everything. */
const OWN_MEMBERS = { base: ['fix-attrs', 'legacy-cont-init'], top: ['base', 'user', 'legacy-services', 'user2'] } as const;

/** The members of base and top that an image's copy of s6-overlay's sources leaves out, as "member (bundle)". */
export function membersLeftOut(bundleContents: ReadonlyMap<string, readonly string[]>): string[] {
  return Object.entries(OWN_MEMBERS).flatMap(([name, members]) => {
    const listed = bundleContents.get(name);
    return listed === undefined ? [] : members.filter((member) => !listed.includes(member)).map((member) => `${member} (${name})`);
  });
}

/**
 * s6-overlay's own services, which every image's definitions hang from:
 * top = base + user + legacy-services + user2, base = fix-attrs + legacy-cont-init,
 * legacy-cont-init after fix-attrs, legacy-services after base and user. A service
 * that depends on base therefore starts after the cont-init.d scripts.
 */
export function withOverlaySources(
  image: ReadonlyMap<string, RcDefinition>,
  diagnostics: Diagnostic[],
  additions: ReadonlyMap<string, readonly string[]> = new Map(),
  bundleContents: ReadonlyMap<string, readonly string[]> = new Map(),
): Map<string, RcDefinition> {
  // An image may add to them (see readOverlayPatches): more contents, more dependencies.
  const more = (name: string, own: string[]): string[] => [...new Set([...own, ...(additions.get(name) ?? [])])];
  // And take members out of base and top, in its copy of s6-overlay's sources.
  const kept = (name: keyof typeof OWN_MEMBERS): string[] => {
    const listed = bundleContents.get(name);
    return OWN_MEMBERS[name].filter((member) => listed === undefined || listed.includes(member));
  };
  const internal: RcDefinition[] = [
    stage('fix-attrs', 'fix-attrs', more('fix-attrs', [])),
    stage('legacy-cont-init', 'legacy-cont-init', more('legacy-cont-init', ['fix-attrs'])),
    bundle('base', more('base', kept('base'))),
    stage('legacy-services', 'legacy-services', more('legacy-services', ['base', 'user'])),
    bundle('top', more('top', kept('top'))),
  ];
  const all = new Map<string, RcDefinition>();
  for (const definition of internal) {
    const clash = image.get(definition.name);
    if (clash !== undefined) {
      diagnostics.push({
        severity: 'error',
        error: new StewardError('ERR_CONFIG', `the name ${definition.name} belongs to s6-overlay's own services`, { path: clash.source, hint: 'Rename your service' }),
      });
    }
    all.set(definition.name, definition);
  }
  for (const [name, definition] of image) if (!all.has(name)) all.set(name, definition);
  for (const name of ['user', 'user2']) if (!all.has(name)) all.set(name, bundle(name, []));
  return all;
}
