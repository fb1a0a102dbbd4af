// bin/meshx-node runs lib/cli/meshx-node.bundle.js, built by `npm run build` after the compile
// (scripts/bundle.js): a missing bundle, or one older than the compiled lib/ or package.json,
// would have the tests that spawn the helper run code other than what they mean to test.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const BUNDLE = path.join('lib', 'cli', 'meshx-node.bundle.js');

/** Every compiled lib/**\/*.js but the bundle, and package.json (whose version it holds). */
function inputs(root) {
  const files = ['package.json'];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.js') && rel !== BUNDLE) files.push(rel);
    }
  };
  walk('lib');
  return files;
}

/** Why the bundle cannot be trusted, or undefined when it is newer than everything it is built from. */
function bundleProblem(root = ROOT) {
  const bundle = path.join(root, BUNDLE);
  if (!fs.existsSync(bundle)) return `${BUNDLE} is missing`;
  const built = fs.statSync(bundle).mtimeMs;
  const newer = inputs(root).filter((f) => fs.statSync(path.join(root, f)).mtimeMs > built);
  if (newer.length) return `${BUNDLE} is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ` and ${newer.length - 3} more` : ''}`;
  return undefined;
}

/** Throws, saying what to run, when the bundle is missing or stale. */
function assertBundleFresh() {
  const problem = bundleProblem();
  if (problem) throw new Error(`${problem}: bin/meshx-node would not run the code under test. Run \`npm run build\`.`);
}

module.exports = { BUNDLE, bundleProblem, assertBundleFresh };
