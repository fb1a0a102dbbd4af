import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_API_VERSION, NodeManifest } from './types';
import { validateManifest } from './validate';

/** A manifest found in synthesized output, with where it came from. */
export interface FoundManifest {
  readonly manifest: NodeManifest;
  readonly stack: string;
  readonly kvKey: string;
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

/**
 * The node manifests in synthesized Terraform JSON: `consul_keys` values that parse as v1
 * manifests. Each is validated; a broken one is an error naming the stack and key.
 */
export function manifestsInSynth(json: any, stack: string): FoundManifest[] {
  const found: FoundManifest[] = [];
  for (const body of Object.values<any>(json?.resource?.consul_keys ?? {})) {
    const keys = Array.isArray(body.key) ? body.key : body.key ? [body.key] : [];
    for (const k of keys) {
      if (typeof k.value !== 'string' || !k.value.includes(MANIFEST_API_VERSION)) continue;
      let parsed: any;
      try {
        parsed = JSON.parse(k.value);
      } catch {
        continue;
      }
      if (parsed?.apiVersion !== MANIFEST_API_VERSION) continue;
      found.push({ manifest: validateManifest(parsed, `${stack}: ${k.path}`), stack, kvKey: k.path });
    }
  }
  return found;
}

/** Every manifest under a cdktf output dir, stack dir or `cdk.tf.json`. */
export function manifestsFrom(from: string): FoundManifest[] {
  return findSynthFiles(from).flatMap((f) => manifestsInSynth(readSynth(f), path.basename(path.dirname(f))));
}
