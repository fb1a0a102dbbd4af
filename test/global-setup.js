// Refuses to run on a missing or stale helper bundle (test/bundle-fresh.js). Then one temp parent
// per test run, removed at the end: synthesized output (support/synth.ts) and, through TMPDIR,
// every temp dir a test or a library makes (cdktf's Testing makes one per synth).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { assertBundleFresh } = require('./bundle-fresh');
module.exports = async () => {
  assertBundleFresh();
  process.env.MESHX_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-test-run-'));
  process.env.TMPDIR = process.env.MESHX_TEST_TMP;
};
