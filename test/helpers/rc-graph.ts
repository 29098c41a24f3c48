import assert from 'node:assert/strict';

import type { Diagnostic } from '../../src/diagnostic.js';
import { compileGraph, type CompiledGraph } from '../../src/graph/compile.js';
import type { RcBundle, RcDefinition, RcLongrun, RcOneshot } from '../../src/model/rc.js';
import { longrunDefinition } from './definitions.js';

/** s6-rc.d definitions with s6-rc's defaults, for graph tests; each test overrides what it checks. */
export function oneshot(name: string, dependencies: string[] = [], options: Partial<RcOneshot> = {}): RcOneshot {
  return {
    kind: 'oneshot',
    name,
    source: `/etc/s6-overlay/s6-rc.d/${name}`,
    dependencies,
    timeoutUpMs: 0,
    timeoutDownMs: 0,
    essential: false,
    up: { kind: 'noop' },
    down: { kind: 'noop' },
    downAfterPartialUp: false,
    ...options,
  };
}

export function longrun(name: string, dependencies: string[] = [], options: Partial<RcLongrun> = {}): RcLongrun {
  const liveDir = `/run/s6-rc/servicedirs/${name}`;
  return {
    kind: 'longrun',
    name,
    source: `/etc/s6-overlay/s6-rc.d/${name}`,
    dependencies,
    timeoutUpMs: 0,
    timeoutDownMs: 0,
    essential: false,
    longrun: longrunDefinition(name, { sourceDir: `/etc/s6-overlay/s6-rc.d/${name}`, liveDir, runPath: `${liveDir}/run` }),
    producerFor: null,
    consumerFor: [],
    pipelineName: null,
    ...options,
  };
}

export function bundle(name: string, contents: string[]): RcBundle {
  return { kind: 'bundle', name, source: `/etc/s6-overlay/s6-rc.d/${name}`, contents, essential: false };
}

/** Compiles the definitions, which must have no problem. */
export function graph(...definitions: RcDefinition[]): CompiledGraph {
  const diagnostics: Diagnostic[] = [];
  const compiled = compileGraph(new Map(definitions.map((definition) => [definition.name, definition])), diagnostics);
  assert.deepEqual(diagnostics.map((diagnostic) => diagnostic.error.message), []);
  return compiled;
}
