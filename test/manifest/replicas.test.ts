import {
  memberQueryName,
  queryTemplateDefinition,
  queryTemplateName,
  queryTemplateRegexp,
  replicaServiceId,
  resolveReplica,
} from '../../lib/manifest/replicas';
import { validateManifest } from '../../lib/manifest/validate';
import { validGroupManifest } from '../fixtures/manifests';

describe('replica names', () => {
  test('a member query matches the template regexp and splits back into service and node', () => {
    const name = memberQueryName(queryTemplateName('shop'), 'shop-api', 'api@api-1.shop.test');
    expect(name).toBe('meshx~shop~shop-api~api@api-1.shop.test');
    const m = new RegExp(queryTemplateRegexp('shop')).exec(name);
    expect(m?.slice(1)).toEqual(['shop-api', 'api@api-1.shop.test']);
    // Hosts with `--` (IDNA) stay whole: `~` is the only separator.
    const idna = memberQueryName('meshx~shop~', 'a', 'x@xn--bcher-kva.example');
    expect(new RegExp(queryTemplateRegexp('shop')).exec(idna)?.[2]).toBe('x@xn--bcher-kva.example');
    // Another mesh's name finds nothing.
    expect(new RegExp(queryTemplateRegexp('shop')).test('meshx~other~shop-api~api@h')).toBe(false);
  });

  test('the template selects on the meta the replicas carry, only passing instances', () => {
    const t = queryTemplateDefinition('shop') as any;
    expect(t.Name).toBe('meshx~shop~');
    expect(t.Template).toEqual({ Type: 'name_prefix_match', Regexp: queryTemplateRegexp('shop') });
    expect(t.Service).toEqual({ Service: '${match(1)}', ServiceMeta: { erlang_node: '${match(2)}', meshx_mesh: 'shop' }, OnlyPassing: true });
  });

  test('replica service IDs: stable per node, distinct between nodes, valid service IDs', () => {
    const a = replicaServiceId('shop-api', 'api@h1.x');
    expect(a).toMatch(/^shop-api-[0-9a-f]{8}$/);
    expect(replicaServiceId('shop-api', 'api@h1.x')).toBe(a);
    expect(replicaServiceId('shop-api', 'api@h2.x')).not.toBe(a);
  });
});

describe('resolveReplica', () => {
  test('makes a valid node manifest: node name, ID, erlang_node meta, peer groups kept', () => {
    const m = resolveReplica(validGroupManifest(), 'api@api-7.shop.test');
    expect(validateManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(m.node).toBe('api@api-7.shop.test');
    expect(m.service.id).toBe(replicaServiceId('shop-api', 'api@api-7.shop.test'));
    expect(m.service.meta).toEqual({ meshx_mesh: 'shop', erlang_node: 'api@api-7.shop.test' });
    expect(m.peerGroups).toEqual(validGroupManifest().peerGroups);
    expect((m as any).group).toBeUndefined();
  });

  test("a single-node peer on the replica's own host moves to 127.0.0.1", () => {
    const m = resolveReplica(validGroupManifest(), 'api@db-1.shop.test');
    expect(m.upstreams[0]).toEqual({ node: 'db@db-1.shop.test', service: 'shop-db', address: '127.0.0.1', port: 0 });
    expect(() => validateManifest(JSON.parse(JSON.stringify(m)))).not.toThrow();
  });
});
