import { Testing, TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { resourcesOfType } from '../lib/synth/reader';

/** A fresh stack with a default Consul provider. */
export function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'test');
  new ConsulProvider(stack, 'consul', {});
  return stack;
}

/** Synthesizes a stack and parses the JSON. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of one type, as a list of their bodies. */
export function resources(json: any, type: string): any[] {
  return resourcesOfType(json, type).map((r) => r.body);
}

/** The manifests a synthesized stack writes to KV, keyed by path. */
export function kvManifests(json: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const r of resources(json, 'consul_keys')) {
    for (const k of r.key) out[k.path] = JSON.parse(k.value);
  }
  return out;
}
