// Synthesizes a stack into a cdktf output dir, as `cdktf synth` does (App.synth in process).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';

export function synthToDir(build: (scope: Construct) => TerraformStack, outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-synth-'))): { outdir: string; stackJson: any } {
  const app = new App({ outdir, skipValidation: false });
  const stack = build(app);
  app.synth();
  const file = path.join(outdir, 'stacks', stack.node.id, 'cdk.tf.json');
  return { outdir, stackJson: JSON.parse(fs.readFileSync(file, 'utf8')) };
}
