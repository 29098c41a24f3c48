// Stops with a clear line on a Node.js too old for Steward, before its bundles are read: an old
// Node fails on them with a stack of its own (Cannot find module 'node:url', SyntaxError at
// `??=`), which names neither the cause nor the remedy. Written for any Node, however old.
'use strict';

// Debian 12's and Ubuntu 24.04's nodejs: the oldest release the test suite runs on.
var OLDEST = [18, 19];

module.exports = function requireSupportedNode(programName) {
  var parts = process.versions.node.split('.');
  var major = Number(parts[0]);
  var minor = Number(parts[1]);
  if (major > OLDEST[0] || (major === OLDEST[0] && minor >= OLDEST[1])) return;
  process.stderr.write(
    programName + ': fatal: Node.js ' + process.versions.node + ' (' + process.execPath + ') is too old: Steward needs ' +
      OLDEST.join('.') + ' or later, 20 or later preferred. Install a newer nodejs in the image (Debian 12, Ubuntu 24.04 ' +
      'and Alpine 3.18 have one; NodeSource or an official node image has the latest), or put a newer node first in PATH\n'
  );
  process.exit(111);
};
