import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { placeLink } from '../../src/init/shims.js';
import { removeTree } from '../helpers/tree.js';

const work = mkdtempSync(join(tmpdir(), 'steward-links-'));
after(() => removeTree(work));

describe('placeLink', () => {
  it("replaces a dangling link, as s6-overlay's /command links are once /package is gone", () => {
    const link = join(work, 'with-contenv');
    symlinkSync('../package/admin/s6-overlay-3.2.0.2/command/with-contenv', link);
    assert.equal(placeLink(link, '/opt/steward/bin/with-contenv', true), 'linked');
    assert.equal(readlinkSync(link), '/opt/steward/bin/with-contenv');
  });

  it('keeps a real file, and a link when told not to replace links', () => {
    const file = join(work, 's6-svc');
    writeFileSync(file, '#!/bin/sh\n');
    assert.equal(placeLink(file, '/opt/steward/bin/s6-tool', true), 'kept');
    assert.equal(lstatSync(file).isFile(), true);
    const link = join(work, 's6-svstat');
    symlinkSync('/elsewhere/s6-svstat', link);
    assert.equal(placeLink(link, '/opt/steward/bin/s6-tool', false), 'kept');
    assert.equal(readlinkSync(link), '/elsewhere/s6-svstat');
  });
});
