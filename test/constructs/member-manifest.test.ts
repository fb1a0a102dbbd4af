import { BeamMesh, IMeshMember } from '../../lib';
import { manifestPeers, withoutPeers } from '../../lib/constructs/member-manifest';
import { BeamNode } from '../../lib/constructs/node';
import { BeamReplicas } from '../../lib/constructs/replicas';
import { peerAddress } from '../../lib/manifest/loopback';
import { validateAnyManifest } from '../../lib/manifest/validate';
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

/** A mesh of 2 to 13 members (nodes on 4 hosts, some groups, fixed ports) with random edges, seeded. */
function randomMesh(seed: number): IMeshMember[] {
  let x = seed;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
  const m = new BeamMesh(newStack(), 'Mesh', { name: `m${seed}` });
  const members: IMeshMember[] = [];
  const size = 2 + rand(12);
  for (let i = 0; i < size; i++) {
    if (rand(4) === 0) members.push(m.addReplicas(`G${i}`, { alive: `g${i}`, connectReplicas: rand(2) === 0 }));
    else members.push(m.addNode(`N${i}`, { nodeName: `n${i}@h${rand(4)}.x`, ...(rand(3) === 0 ? { distPort: 9000 + i } : {}) }));
  }
  if (rand(3) === 0) m.connectAll();
  else for (let e = 0; e < size * 2; e++) {
    const [a, b] = [members[rand(size)], members[rand(size)]];
    if (a !== b) m.connect(a, b, { bidirectional: rand(2) === 0 });
  }
  return members;
}

describe('withoutPeers: the peers need no check at synth', () => {
  test('every whole manifest of 200 random meshes passes the full schema and rules', () => {
    let peers = 0;
    for (let seed = 1; seed <= 200; seed++) {
      for (const member of randomMesh(seed)) {
        const manifest = (member as BeamNode | BeamReplicas).manifest;
        peers += manifest.upstreams.length + (manifest.peerGroups?.length ?? 0);
        expect(() => validateAnyManifest(JSON.parse(JSON.stringify(manifest)), member.node.path)).not.toThrow();
      }
    }
    expect(peers).toBeGreaterThan(2000); // the meshes are connected, not empty
  });

  test('keeps everything but the peers, of a node and of a group', () => {
    const m = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
    const a = m.addNode('A', { nodeName: 'a@h1.x', tags: ['t'] });
    const g = m.addReplicas('G', { alive: 'g' });
    m.connectAll();
    const { upstreams: _u, peerGroups: _p, ...nodeOwn } = a.manifest;
    expect(withoutPeers(a.manifest)).toEqual({ ...nodeOwn, upstreams: [] });
    expect('peerGroups' in withoutPeers(a.manifest)).toBe(false);
    expect(withoutPeers(g.manifest)).toEqual({ ...g.manifest, upstreams: [], peerGroups: [] });
  });
});
