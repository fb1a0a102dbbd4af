import { BeamMesh } from '../../lib';
import { manifestPeers } from '../../lib/constructs/member-manifest';
import { peerAddress } from '../../lib/manifest/loopback';
import { newStack } from '../util';

describe('manifestPeers', () => {
  test("a node's own host is 127.0.0.1, a group has none: the same peers number differently", () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const self = m.addNode('Self', { nodeName: 'self@h1.x' });
    const g = m.addReplicas('G', { alive: 'g', connectReplicas: false });
    const peers = [m.addNode('A', { nodeName: 'a@h1.x' }), m.addNode('B', { nodeName: 'b@h2.x' })];
    expect(manifestPeers(self, peers, self.nodeName).upstreams.map((u) => u.address)).toEqual(['127.0.0.1', peerAddress(0)]);
    expect(manifestPeers(g, peers, undefined).upstreams.map((u) => u.address)).toEqual([peerAddress(0), peerAddress(1)]);
  });

  test('groups become peer groups of the mesh template, sorted by service, whatever the display order', () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const self = m.addNode('Self', { nodeName: 'self@h1.x' });
    const z = m.addReplicas('Z', { alive: 'a', serviceName: 'zz' });
    const a = m.addReplicas('A', { alive: 'z', serviceName: 'aa' });
    const { upstreams, peerGroups } = manifestPeers(self, [z, a], self.nodeName);
    expect(upstreams).toEqual([]);
    expect(peerGroups).toEqual([{ service: 'aa', query: 'meshx~m~' }, { service: 'zz', query: 'meshx~m~' }]);
  });

  test('more than 4,096 single-node peers fail naming the member', () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const g = m.addReplicas('G', { alive: 'g' });
    const many = Array.from({ length: 4097 }, (_, i) => ({ isGroup: false, nodeName: `n${i}@h${i}.x`, host: `h${i}.x`, serviceName: `s${i}` }));
    expect(() => manifestPeers(g, many as any, undefined)).toThrow(
      '[test/Mesh/G] too many peers: 4097 exceed the 4096 upstreams of a group manifest',
    );
  });
});
