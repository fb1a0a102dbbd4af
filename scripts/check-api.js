// Fails when API.md is not what jsii-docgen makes from the current build.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-api-')), 'API.md');
execFileSync(path.join(root, 'node_modules', '.bin', 'jsii-docgen'), ['-o', tmp], { cwd: root, stdio: 'inherit' });
const want = fs.readFileSync(tmp, 'utf8');
const have = fs.existsSync(path.join(root, 'API.md')) ? fs.readFileSync(path.join(root, 'API.md'), 'utf8') : '';
if (want !== have) {
  console.error('API.md is stale: run `npm run build` and commit API.md');
  process.exit(1);
}
console.log('API.md is current');
