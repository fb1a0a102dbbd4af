// The one reader of synthesized Terraform JSON (`cdk.tf.json`): finds stack files and lists
// resources by type. Manifest extraction, the review graph and test support read through it.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One resource of a synthesized stack: its Terraform type, its name in the stack and its body. */
export interface SynthResource {
  readonly type: string;
  readonly name: string;
  readonly body: any;
}

/** One synthesized stack file. */
export interface SynthStack {
  readonly file: string;
  /** The stack's name (its directory under `stacks/`). */
  readonly stack: string;
  readonly json: any;
}

/** Finds every `cdk.tf.json` under a cdktf output dir, a stack dir, or returns the file itself. */
export function findSynthFiles(from: string): string[] {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${from} does not exist`);
  if (stat.isFile()) return [from];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isFile() && e.name === 'cdk.tf.json') out.push(p);
      else if (e.isDirectory() && depth < 4 && !e.name.startsWith('.')) walk(p, depth + 1);
    }
  };
  walk(from, 0);
  if (out.length === 0) throw new Error(`no cdk.tf.json under ${from} (run cdktf synth first)`);
  return out.sort();
}

/** Reads and parses one synthesized stack file. */
export function readSynth(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Every stack under a cdktf output dir, stack dir or `cdk.tf.json`. */
export function readStacks(from: string): SynthStack[] {
  return findSynthFiles(from).map((file) => ({ file, stack: path.basename(path.dirname(file)), json: readSynth(file) }));
}

/** The resources of one type in a synthesized stack, in file order. */
export function resourcesOfType(json: any, type: string): SynthResource[] {
  return Object.entries<any>(json?.resource?.[type] ?? {}).map(([name, body]) => ({ type, name, body }));
}
