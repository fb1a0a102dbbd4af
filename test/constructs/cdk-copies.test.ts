// A second copy of the CDK, as an app gets when it imports `cdktn` while meshx-node and
// @cdktf/provider-consul load `cdktf` (two installs of one package under two names): the app's
// stack, App and aspects come from one copy, meshx-node's resources and tokens from the other.
// jest.isolateModules loads such a second copy of cdktf (its own classes, its own private
// aspects symbol), so these tests run that case without an npm install.
import * as cdktf from 'cdktf';
import { BeamMesh, IntentionsMode, MeshPolicy } from '../../lib';
import { kvManifests, resources } from '../util';

type Cdk = typeof cdktf;

function secondCopy(): Cdk {
  let copy: Cdk | undefined;
  jest.isolateModules(() => {
    copy = require('cdktf');
  });
  expect(copy!.TerraformStack).not.toBe(cdktf.TerraformStack);
  return copy!;
}

/** The same stack built in the given copy's App and stack, synthesized by that copy. */
function synthIn(cdk: Cdk, mode: IntentionsMode, stackClass?: typeof cdktf.TerraformStack): any {
  const app = cdk.Testing.app();
  const stack = new (stackClass ?? cdk.TerraformStack)(app, 'test');
  const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: mode });
  const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
  const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
  mesh.connect(a, b);
  mesh.addNode('C', { nodeName: 'c@h3.x' });
  return JSON.parse(cdk.Testing.synth(stack));
}

describe('a stack from another copy of the CDK', () => {
  for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
    test(`synthesizes the whole mesh, as the same copy does (${mode})`, () => {
      const other = secondCopy();
      const foreign = synthIn(other, mode);
      const same = synthIn(cdktf, mode);
      expect(foreign.resource).toEqual(same.resource);
      expect(foreign.output).toEqual(same.output);
      // Whole: intentions with their sources, deny included, and every manifest.
      expect(Object.keys(kvManifests(foreign)).sort()).toEqual(['meshx/m/nodes/m-a', 'meshx/m/nodes/m-b', 'meshx/m/nodes/m-c']);
      if (mode === IntentionsMode.CONFIG_ENTRY) {
        const entries = resources(foreign, 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
        expect(entries).toHaveLength(3);
        const sourcesOfB = JSON.parse(entries.find((e) => e.name === 'm-b').config_json).Sources.map((s: any) => `${s.Name}:${s.Action}`);
        expect(sourcesOfB).toEqual(['m-a:allow', '*:deny']);
      } else {
        expect(resources(foreign, 'consul_intention')).toHaveLength(5);
      }
    });
  }

  test("MeshPolicy rules run as the other copy's aspects", () => {
    const other = secondCopy();
    const stack = new other.TerraformStack(other.Testing.app(), 'test');
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', defaultDeny: false });
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    other.Aspects.of(stack).add(MeshPolicy.requireDefaultDeny());
    expect(() => other.Testing.synth(stack)).toThrow("[test/Mesh] MeshPolicy.requireDefaultDeny: mesh 'm' has defaultDeny: false");
  });

  test('a CDK Terrain stack over cdktf 0.21 resources fails at once, naming the cause and the fix', () => {
    const other = secondCopy();
    // What CDK Terrain 0.24's stack has and cdktf 0.21's elements lack.
    // (The package named first is found through require.cache, which jest's registry bypasses.)
    class TerrainStack extends other.TerraformStack {
      public _runPreparingResolve(): void {}
    }
    const cause = /\[test\/Mesh\] the stack is a .+ stack, but meshx-node and @cdktf\/provider-consul load 'cdktf' as cdktf 0\.21\.0, /;
    expect(() => synthIn(other, IntentionsMode.CONFIG_ENTRY, TerrainStack)).toThrow(cause);
    expect(() => synthIn(other, IntentionsMode.CONFIG_ENTRY, TerrainStack)).toThrow(/whose resources a CDK Terrain stack cannot synthesize/);
    expect(() => synthIn(other, IntentionsMode.CONFIG_ENTRY, TerrainStack)).toThrow('add "overrides": {"cdktf": "npm:cdktn@0.24.0"}');
  });
});
