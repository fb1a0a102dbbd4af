// TODO(layers): manifest imports nothing else of lib/; this file belongs in lib/synth/, moved once lib/cli imports it from there.
// eslint-disable-next-line import-x/no-restricted-paths
import { readStacks, resourcesOfType } from '../synth/reader';
import { AnyManifest, isGroupManifest, MANIFEST_API_VERSION, NodeManifest } from './types';
import { validateAnyManifest } from './validate';

/** A manifest found in synthesized output, with where it came from: a node's unless `M` says otherwise. */
export interface FoundManifest<M extends AnyManifest = NodeManifest> {
  readonly manifest: M;
  readonly stack: string;
  readonly kvKey: string;
}

/**
 * Every manifest in synthesized Terraform JSON, nodes' and replica groups': `consul_keys` values
 * that parse as v1 manifests. Each is validated; a broken one is an error naming the stack and key.
 */
export function allManifestsInSynth(json: any, stack: string): Array<FoundManifest<AnyManifest>> {
  const found: Array<FoundManifest<AnyManifest>> = [];
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
      found.push({ manifest: validateAnyManifest(parsed, `${stack}: ${k.path}`), stack, kvKey: k.path });
    }
  }
  return found;
}

/** The single nodes' manifests in synthesized Terraform JSON (group manifests are validated, then left out). */
export function manifestsInSynth(json: any, stack: string): FoundManifest[] {
  return nodesOnly(allManifestsInSynth(json, stack));
}

/** Every manifest, nodes' and groups', under a cdktf output dir, stack dir or `cdk.tf.json`. */
export function allManifestsFrom(from: string): Array<FoundManifest<AnyManifest>> {
  return readStacks(from).flatMap((s) => allManifestsInSynth(s.json, s.stack));
}

/** Every single node's manifest under a cdktf output dir, stack dir or `cdk.tf.json`. */
export function manifestsFrom(from: string): FoundManifest[] {
  return nodesOnly(allManifestsFrom(from));
}

function nodesOnly(found: Array<FoundManifest<AnyManifest>>): FoundManifest[] {
  return found.filter((f): f is FoundManifest => !isGroupManifest(f.manifest));
}
