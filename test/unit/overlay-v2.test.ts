import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { isOverlayV2Etc } from '../../src/init/overlay-v2.js';
import { treesRemovedAfter } from '../helpers/tree.js';

const tree = treesRemovedAfter(after);

describe('an image made for s6-overlay v2', () => {
  it("is told by v2's stage 2 in its /etc", () => {
    assert.equal(isOverlayV2Etc(tree({ 's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n' }), []), true);
    assert.equal(isOverlayV2Etc(tree({ 'services.d/web/run': '#!/bin/sh\n' }), []), false);
  });

  it('is not one when it was updated to v3 over a v2 base that left v2 files behind', () => {
    const v3Layout = tree({ 's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n', 's6-overlay/s6-rc.d/user/type': 'bundle\n' });
    assert.equal(isOverlayV2Etc(v3Layout, []), false);
    const v3Package = tree({ 's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n', 'package/admin/s6-overlay/command/with-contenv': '#!/bin/sh\n' });
    assert.equal(isOverlayV2Etc(v3Package, [join(v3Package, 'package', 'admin', 's6-overlay')]), false);
  });
});
