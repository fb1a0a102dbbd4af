// One temp parent per test run for synthesized output (support/synth.ts), removed at the end.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
module.exports = async () => {
  process.env.MESHX_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-test-run-'));
};
