// TODO(layers): manifest imports nothing else of lib/; this file belongs in lib/synth/, moved once lib/cli imports it from there.
// eslint-disable-next-line import-x/no-restricted-paths
import { readStacks, resourcesOfType } from '../synth/reader';
import { MANIFEST_API_VERSION, NodeManifest } from './types';
import { validateManifest } from './validate';

/** A manifest found in synthesized output, with where it came from. */
export interface FoundManifest {
  readonly manifest: NodeManifest;
  readonly stack: string;
  readonly kvKey: string;
}

/**
 * The node manifests in synthesized Terraform JSON: `consul_keys` values that parse as v1
 * manifests. Each is validated; a broken one is an error naming the stack and key.
 */
export function manifestsInSynth(json: any, stack: string): FoundManifest[] {
  const found: FoundManifest[] = [];
  for (const { body } of resourcesOfType(json, 'consul_keys')) {
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
  return readStacks(from).flatMap((s) => manifestsInSynth(s.json, s.stack));
}
