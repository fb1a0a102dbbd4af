import { BeamMesh } from '../../lib';
import { newStack } from '../util';

const newMesh = () => new BeamMesh(newStack(), 'Mesh', { name: 'm' });

describe('clashes between mesh members', () => {
  test('a service name is unique across nodes and groups, either order', () => {
    const m1 = newMesh();
    m1.addNode('A', { nodeName: 'a@h.x', serviceName: 'svc' });
    expect(() => m1.addReplicas('G', { alive: 'g', serviceName: 'svc' })).toThrow("[test/Mesh/G] service name 'svc' is already used by test/Mesh/A");
    const m2 = newMesh();
    m2.addReplicas('G', { alive: 'g', serviceName: 'svc' });
    const taken = "service name 'svc' is already used by test/Mesh/G";
    expect(() => m2.addNode('A', { nodeName: 'a@h.x', serviceName: 'svc' })).toThrow(`[test/Mesh/A] ${taken}`);
    expect(() => m2.addReplicas('H', { alive: 'h', serviceName: 'svc' })).toThrow("[test/Mesh/H] service name 'svc' is already used by test/Mesh/G");
  });

  test("a group's alive name is taken by a node of that alive on any host, or by another group", () => {
    const m = newMesh();
    m.addNode('A', { nodeName: 'api@h1.x' });
    expect(() => m.addReplicas('G', { alive: 'api' })).toThrow(
      "[test/Mesh/G] alive name 'api' is already used by test/Mesh/A (api@h1.x): a replica runs on any host",
    );
    m.addReplicas('W', { alive: 'worker' });
    expect(() => m.addReplicas('W2', { alive: 'worker' })).toThrow(
      "[test/Mesh/W2] alive name 'worker' is already used by test/Mesh/W (worker@* (group m-w))",
    );
    expect(() => m.addNode('B', { nodeName: 'worker@h9.x' })).toThrow("[test/Mesh/B] alive name 'worker' is already used by test/Mesh/W");
    // Alive names are compared exactly, as Erlang compares node names.
    expect(m.addReplicas('W3', { alive: 'Worker' }).alive).toBe('Worker');
  });

  test("a group's fixed ports clash with any node's and any group's, whatever the host", () => {
    const m = newMesh();
    m.addNode('A', { nodeName: 'a@h1.x', sidecarPort: 21000, epmdPort: 4370 });
    expect(() => m.addReplicas('G', { alive: 'g', distPort: 21000 })).toThrow(
      '[test/Mesh/G] distPort 21000 clashes with sidecarPort of test/Mesh/A (a replica may run on any host)',
    );
    m.addReplicas('H', { alive: 'h', distPort: 9100 });
    expect(() => m.addReplicas('I', { alive: 'i', epmdPort: 9100 })).toThrow('[test/Mesh/I] epmdPort 9100 clashes with distPort of test/Mesh/H');
    expect(() => m.addNode('B', { nodeName: 'b@h7.x', distPort: 9100 })).toThrow('[test/Mesh/B] distPort 9100 clashes with distPort of test/Mesh/H');
    // Ports left at 0 are chosen at boot and never clash.
    m.addReplicas('J', { alive: 'j' });
    m.addNode('C', { nodeName: 'c@h1.x' });
  });

  test('two nodes still clash on ports only on the same host', () => {
    const m = newMesh();
    m.addNode('A', { nodeName: 'a@h1.x', distPort: 9100 });
    m.addNode('B', { nodeName: 'b@h2.x', distPort: 9100 });
    expect(() => m.addNode('C', { nodeName: 'c@h1.x', epmdPort: 9100 })).toThrow(
      "[test/Mesh/C] epmdPort 9100 clashes with distPort of test/Mesh/A on the same host 'h1.x'",
    );
    expect(() => m.addNode('D', { nodeName: 'a@h1.x' })).toThrow("[test/Mesh/D] node name 'a@h1.x' is already used by test/Mesh/A");
  });
});

describe('clash checks through the index', () => {
  test('the first clash reported is with the earliest member, as a scan of every member would report it', () => {
    const m = newMesh();
    for (let i = 0; i < 20; i++) m.addNode(`N${i}`, { nodeName: `n${i}@h${i}.x` });
    m.addNode('A', { nodeName: 'a@h1.x', distPort: 9100 });
    m.addNode('B', { nodeName: 'b@h2.x', serviceName: 'svc-b' });
    // C clashes with A (port, same host) and with B (service name): A was added first.
    expect(() => m.addNode('C', { nodeName: 'c@h1.x', epmdPort: 9100, serviceName: 'svc-b' })).toThrow(
      "[test/Mesh/C] epmdPort 9100 clashes with distPort of test/Mesh/A on the same host 'h1.x'",
    );
    // Without the port, the service name clash with B remains.
    expect(() => m.addNode('D', { nodeName: 'd@h1.x', serviceName: 'svc-b' })).toThrow(
      "[test/Mesh/D] service name 'svc-b' is already used by test/Mesh/B",
    );
  });

  test('a node without fixed ports shares a host with nodes that have them', () => {
    const m = newMesh();
    m.addNode('A', { nodeName: 'a@h1.x', distPort: 9100 });
    expect(m.addNode('B', { nodeName: 'b@h1.x' }).host).toBe('h1.x');
    expect(() => m.addNode('C', { nodeName: 'c@h1.x', sidecarPort: 9100 })).toThrow(
      '[test/Mesh/C] sidecarPort 9100 clashes with distPort of test/Mesh/A',
    );
  });
});
