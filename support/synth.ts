// Synthesizes a stack into a cdktf output dir, as `cdktf synth` does (App.synth in process).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, LocalBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { readSynth } from '../lib/synth/reader';

const made: string[] = [];
// Temp output dirs live until the process (demo, bench) exits; under jest, in MESHX_TEST_TMP,
// which the global teardown removes (exit hooks do not fire in jest's sandbox).
process.once('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

export function synthToDir(build: (scope: Construct) => TerraformStack, outdir?: string): { outdir: string; stackJson: any } {
  if (!outdir) {
    outdir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-synth-'));
    made.push(outdir);
  }
  const app = new App({ outdir, skipValidation: false });
  const stack = build(app);
  // Terraform state beside the synth, not in the working directory (cdktf's default).
  new LocalBackend(stack, { path: path.join(outdir, `terraform.${stack.node.id}.tfstate`) });
  app.synth();
  const file = path.join(outdir, 'stacks', stack.node.id, 'cdk.tf.json');
  return { outdir, stackJson: readSynth(file) };
}
