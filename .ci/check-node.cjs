// Run by `npm start` and `npm test` before anything else: one line, and what to do, when this
// Node.js is too old. Written for any Node version (no modern syntax), since that is the point.
'use strict';
var fs = require('fs');
var path = require('path');

var MIN = [22, 12];
var recommended = fs.readFileSync(path.join(__dirname, '..', '.nvmrc'), 'utf8').trim();
var parts = process.versions.node.split('.').map(Number);
var ok = parts[0] > MIN[0] || (parts[0] === MIN[0] && parts[1] >= MIN[1]);
if (!ok) {
  var eol = parts[0] <= 20 ? ' (Node.js ' + parts[0] + ' has reached its end of life)' : '';
  process.stderr.write(
    'open-hcm: Node.js ' +
      process.versions.node +
      ' is not supported' +
      eol +
      '; it needs Node.js ' +
      MIN.join('.') +
      ' or newer, ideally ' +
      recommended +
      ' LTS. Install it (nvm install, which reads .nvmrc), or fetch a local copy with ' +
      '"bash .ci/fetch-node" and put it first on your PATH as that script prints.\n',
  );
  process.exit(1);
}
