import { memberQueryName, resolveReplica } from '../../../lib/manifest/replicas';
import { LIMITS } from '../../../lib/manifest/rules';
import { NodeManifest } from '../../../lib/manifest/types';
import { validateGroupManifest, validateManifest } from '../../../lib/manifest/validate';
import { withMembers } from '../../../lib/runtime/topology/members';
import { validGroupManifest, validManifest } from '../../fixtures/manifests';

const OWN = 'api@api-1.shop.test';

/** Replica api-1 of the fixture group: a single-node peer (db), peer groups shop-api (its own) and shop-jobs. */
function replica(): NodeManifest {
  return resolveReplica(validateGroupManifest(validGroupManifest()), OWN);
}

const nodesOf = (m: NodeManifest) => m.upstreams.map((u) => u.node);

describe('withMembers', () => {
  test('a manifest without peer groups is returned as it is, whatever the member sets say', () => {
    const base = validateManifest(validManifest());
    const members = new Map([['shop-api', ['api@api-2.shop.test']]]);
    const out = withMembers(base, members);
    expect(out.manifest).toBe(base);
    expect(out.dropped).toBe(0);
    const empty = { ...base, peerGroups: [] };
    expect(withMembers(empty, members)).toEqual({ manifest: empty, dropped: 0 });
  });

  test('one upstream per member, after the manifest\'s own, routed by its query; the base is not changed', () => {
    const base = replica();
    const copy = JSON.parse(JSON.stringify(base));
    const members = new Map([
      ['shop-api', ['api@api-2.shop.test']],
      ['shop-jobs', ['jobs@jobs-1.shop.test']],
    ]);
    const { manifest, dropped } = withMembers(base, members);
    expect(dropped).toBe(0);
    expect(manifest.upstreams).toEqual([
      base.upstreams[0],
      { node: 'api@api-2.shop.test', service: 'shop-api', address: '', port: 0, query: 'meshx~shop~shop-api~api@api-2.shop.test' },
      { node: 'jobs@jobs-1.shop.test', service: 'shop-jobs', address: '', port: 0, query: 'meshx~shop~shop-jobs~jobs@jobs-1.shop.test' },
    ]);
    // Everything else is the base's.
    expect({ ...manifest, upstreams: base.upstreams }).toEqual(base);
    expect(base).toEqual(copy);
  });

  test('the query name is the group\'s template, its service and the node', () => {
    const base = replica();
    const other = { ...base, peerGroups: [{ service: 'shop-jobs', query: 'meshx~elsewhere~' }] };
    const { manifest } = withMembers(other, new Map([['shop-jobs', ['jobs@j.x']]]));
    expect((manifest.upstreams[1] as { query?: string }).query).toBe(memberQueryName('meshx~elsewhere~', 'shop-jobs', 'jobs@j.x'));
  });

  test('its own node is left out of its own group', () => {
    const { manifest } = withMembers(replica(), new Map([['shop-api', ['api@api-0.shop.test', OWN, 'api@api-2.shop.test']]]));
    expect(nodesOf(manifest)).toEqual(['db@db-1.shop.test', 'api@api-0.shop.test', 'api@api-2.shop.test']);
    expect(nodesOf(manifest)).not.toContain(OWN);
  });

  test('a member that is a single-node peer already is not routed twice', () => {
    const { manifest } = withMembers(replica(), new Map([['shop-jobs', ['db@db-1.shop.test', 'jobs@jobs-1.shop.test']]]));
    expect(nodesOf(manifest)).toEqual(['db@db-1.shop.test', 'jobs@jobs-1.shop.test']);
    // The single-node peer keeps its manifest upstream (a service, not a query).
    expect(manifest.upstreams[0]).toEqual(replica().upstreams[0]);
  });

  test('a node listed in two groups is routed once, through the first group that lists it', () => {
    const both = 'x@shared.shop.test';
    const { manifest } = withMembers(replica(), new Map([
      ['shop-api', [both]],
      ['shop-jobs', [both, 'jobs@jobs-1.shop.test']],
    ]));
    expect(nodesOf(manifest).filter((n) => n === both)).toHaveLength(1);
    expect(manifest.upstreams.find((u) => u.node === both)).toMatchObject({ service: 'shop-api', query: `meshx~shop~shop-api~${both}` });
  });

  test('members are sorted by node name across groups; groups without a set add nothing', () => {
    const { manifest } = withMembers(replica(), new Map([
      ['shop-jobs', ['jobs@b.x', 'jobs@a.x']],
      ['shop-api', ['api@z.x', 'api@c.x']],
      ['shop-unlisted', ['u@u.x']],
    ]));
    expect(nodesOf(manifest)).toEqual(['db@db-1.shop.test', 'api@c.x', 'api@z.x', 'jobs@a.x', 'jobs@b.x']);
    expect(withMembers(replica(), new Map()).manifest.upstreams).toEqual(replica().upstreams);
  });

  test("members past the manifest's upstream limit are left out and counted; the first by name are kept", () => {
    const base = replica();
    const filler = Array.from({ length: LIMITS.upstreams - 3 }, (_, i) => ({
      node: `n${i}@h${i}.x`,
      service: `svc-${i}`,
      address: '127.0.0.2',
      port: 0,
    }));
    const full = { ...base, upstreams: [...base.upstreams, ...filler] };
    expect(full.upstreams).toHaveLength(LIMITS.upstreams - 2);
    const members = ['api@e.x', 'api@b.x', 'api@d.x', 'api@a.x', 'api@c.x'];
    const { manifest, dropped } = withMembers(full, new Map([['shop-api', members]]));
    expect(manifest.upstreams).toHaveLength(LIMITS.upstreams);
    expect(dropped).toBe(3);
    expect(nodesOf(manifest).slice(-2)).toEqual(['api@a.x', 'api@b.x']);
    expect(manifest.upstreams.slice(0, full.upstreams.length)).toEqual(full.upstreams);

    // A base at the limit has no room: every member is dropped, the base is kept whole.
    const atLimit = { ...full, upstreams: [...full.upstreams, ...filler.slice(0, 2)] };
    const none = withMembers(atLimit, new Map([['shop-api', members]]));
    expect(none.manifest.upstreams).toEqual(atLimit.upstreams);
    expect(none.dropped).toBe(members.length);
  });

  test('exactly at the limit: nothing dropped', () => {
    const base = replica();
    const filler = Array.from({ length: LIMITS.upstreams - 2 }, (_, i) => ({
      node: `n${i}@h${i}.x`,
      service: `s-${i}`,
      address: '127.0.0.2',
      port: 0,
    }));
    const full = { ...base, upstreams: [base.upstreams[0], ...filler] };
    const { manifest, dropped } = withMembers(full, new Map([['shop-api', ['api@b.x']]]));
    expect(dropped).toBe(0);
    expect(manifest.upstreams).toHaveLength(LIMITS.upstreams);
    expect(manifest.upstreams[LIMITS.upstreams - 1].node).toBe('api@b.x');
  });
});
