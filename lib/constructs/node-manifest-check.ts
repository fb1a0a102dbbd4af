import { validateAsJson, validateManifest } from '../manifest/validate';
import { NodeManifest } from '../manifest/types';
import type { IBeamMesh } from './mesh-base';
import { withoutPeers } from './member-manifest';

/** Per mesh, the shapes of node manifests already checked (see checkNodeManifest). */
const checkedShapes = new WeakMap<IBeamMesh, Set<string>>();

/**
 * Checks a node's manifest as synthesized (its own part, see withoutPeers) against the v1 schema
 * and rules, once per shape in a mesh: nodes whose manifests differ only in their names (node name,
 * service name and ID, and the `erlang_node` meta that repeats the node name) get the same answer,
 * since each name passed the schema's pattern when its node was added (validateNodeProps) and no
 * rule compares a name with another field but ID with name, which are equal. Throws ManifestError.
 */
export function checkNodeManifest(mesh: IBeamMesh, manifest: NodeManifest): void {
  const own = withoutPeers(manifest);
  // The answer is that for the manifest's JSON text (validateAsJson): so is the key.
  const shape = JSON.stringify({ ...own, node: '', service: { ...own.service, id: '', name: '', meta: { ...own.service.meta, erlang_node: '' } } });
  let shapes = checkedShapes.get(mesh);
  if (shapes?.has(shape)) return;
  validateAsJson(own, validateManifest);
  if (!shapes) checkedShapes.set(mesh, (shapes = new Set()));
  shapes.add(shape);
}
