import * as fs from 'node:fs';
import { allManifestsFrom, FoundManifest } from '../manifest/extract';
import { AnyManifest, isGroupManifest } from '../manifest/types';
import { MAX_MANIFEST_BYTES, ManifestError, parseAnyManifest } from '../manifest/validate';
import { ConsulAgent } from '../runtime/consul/agent';
import { InputError, RuntimeFailure } from '../runtime/errors';

/** Where `run` reads its manifest from: exactly one of file, synthesized output, or KV. */
export interface ManifestSourceOptions {
  readonly manifest?: string;
  readonly from?: string;
  readonly node?: string;
  readonly kv?: string;
}

export function checkSourceOptions(o: ManifestSourceOptions): void {
  const given = [o.manifest && '--manifest', o.from && '--from', o.kv && '--kv'].filter(Boolean);
  if (given.length === 0) throw new InputError('give the manifest with one of --manifest FILE, --from CDKTF_OUT --node NAME, or --kv KEY');
  if (given.length > 1) throw new InputError(`give only one of ${given.join(', ')}`);
  if (o.from && !o.node) throw new InputError('--from needs --node NAME (the Erlang node name or service name to boot)');
  if (o.node && !o.from) throw new InputError('--node goes with --from');
}

/** Reads a manifest file (a node's or a group's), size-capped, validated. */
export function manifestFromFile(file: string): AnyManifest {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new InputError(`--manifest: ${file} does not exist`);
  }
  if (stat.size > MAX_MANIFEST_BYTES) throw new InputError(`${file}: manifest field '(root)' is larger than ${MAX_MANIFEST_BYTES} bytes`);
  return asInput(() => parseAnyManifest(fs.readFileSync(file, 'utf8'), file));
}

/** All manifests (nodes' and groups') in synthesized output; a broken one is bad input. */
export function manifestsFromSynth(from: string): Array<FoundManifest<AnyManifest>> {
  return asInput(() => allManifestsFrom(from));
}

/** How --node names a manifest: a node's Erlang name, a group's `alive@*`, or the service name. */
const nameOf = (m: AnyManifest) => (isGroupManifest(m) ? `${m.group.alive}@*` : m.node);

/** Picks one manifest from synthesized output by Erlang node name (a group's `alive@*`) or service name. */
export function selectManifest(found: Array<FoundManifest<AnyManifest>>, node: string, from: string): AnyManifest {
  const hits = found.filter((f) => nameOf(f.manifest) === node || f.manifest.service.name === node);
  if (hits.length === 0) {
    const known = found.map((f) => nameOf(f.manifest)).join(', ') || 'none';
    throw new InputError(`--node: no node '${node}' in ${from} (nodes there: ${known})`);
  }
  if (hits.length > 1) {
    throw new InputError(`--node: '${node}' is in several stacks of ${from} (${hits.map((h) => h.stack).join(', ')}); point --from at one stack`);
  }
  return hits[0].manifest;
}

/** Reads a manifest (a node's or a group's) from KV, validated. */
export async function manifestFromKv(agent: ConsulAgent, key: string): Promise<AnyManifest> {
  let text: string | undefined;
  try {
    text = await agent.kvGet(key);
  } catch (e) {
    throw new RuntimeFailure(`--kv ${key}: ${(e as Error).message}`);
  }
  if (text === undefined) throw new InputError(`--kv: no key ${key} in Consul KV`);
  return asInput(() => parseAnyManifest(text!, `kv:${key}`));
}

export function asInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof ManifestError) throw new InputError(e.message);
    throw new InputError((e as Error).message);
  }
}
