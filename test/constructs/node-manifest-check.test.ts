import { Testing } from 'cdktf';
import { BeamMesh } from '../../lib';
import { checkNodeManifest } from '../../lib/constructs/node-manifest-check';
import * as validate from '../../lib/manifest/validate';
import { newStack } from '../util';

describe('checkNodeManifest', () => {
  afterEach(() => jest.restoreAllMocks());

  test('checks once per shape: nodes differing only in their names share the answer', () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const nodes = [0, 1, 2].map((i) => m.addNode(`N${i}`, { nodeName: `n${i}@h${i}.x` }));
    const other = m.addNode('T', { nodeName: 't@h.x', tags: ['web'] });
    m.connectAll();
    const spy = jest.spyOn(validate, 'validateManifest');
    for (const n of [...nodes, other]) checkNodeManifest(m, n.manifest);
    expect(spy).toHaveBeenCalledTimes(2); // the three untagged nodes, then the tagged one
    checkNodeManifest(new BeamMesh(newStack(), 'Other', { name: 'm' }), nodes[0].manifest);
    expect(spy).toHaveBeenCalledTimes(3); // each mesh checks its own
  });

  test('a node of another shape still fails at synth, naming its path and the field', () => {
    const stack = newStack();
    const m = new BeamMesh(stack, 'Mesh', { name: 'm' });
    m.addNode('A', { nodeName: 'a@h.x' });
    // 63 keys of its own plus erlang_node and meshx_mesh: more than the 64 a manifest allows.
    const meta = Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`k${i}`, 'v']));
    m.addNode('B', { nodeName: 'b@h.x', meta });
    m.connectAll();
    expect(() => Testing.synth(stack)).toThrow(/\[test\/Mesh\/B\] manifest field 'service\.meta' /);
  });

  test('a failure is not remembered: the same manifest fails again', () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const meta = Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`k${i}`, 'v']));
    const manifest = m.addNode('B', { nodeName: 'b@h.x', meta }).manifest;
    expect(() => checkNodeManifest(m, manifest)).toThrow(/manifest field 'service\.meta'/);
    expect(() => checkNodeManifest(m, manifest)).toThrow(/manifest field 'service\.meta'/);
  });
});
