import { memberNodes } from '../../../lib/runtime/consul/member-answer';

/** An instance as /v1/health/connect lists it: Node first, as Consul writes it. */
const instance = (node: unknown, config: unknown = {}) => ({
  Node: { ID: 'n-1', Node: 'agent-1', Meta: { 'consul-network-segment': '' } },
  Service: {
    Kind: 'connect-proxy',
    ID: 'x',
    Service: 'shop-api-sidecar-proxy',
    Meta: { erlang_node: node, meshx_mesh: 'shop' },
    Proxy: { Config: config },
  },
  Checks: [{ Node: 'agent-1', CheckID: 'serfHealth', Output: 'Agent alive and reachable},{"Node":' }],
});

describe('memberNodes', () => {
  test('each instance\'s erlang_node: valid node names, once each, sorted', () => {
    const text = JSON.stringify([
      instance('api@api-3.shop.test'),
      instance('api@api-1.shop.test'),
      instance('api@api-3.shop.test'),
      instance(42),
      instance('not a node name'),
      { Node: { Node: 'agent-2' } },
      instance('api@api-2.shop.test'),
    ]);
    expect(memberNodes(text)).toEqual(['api@api-1.shop.test', 'api@api-2.shop.test', 'api@api-3.shop.test']);
  });

  test('a thousand instances: the same as the answer parsed whole, one instance parsed at a time', () => {
    const all = Array.from({ length: 1000 }, (_, i) => instance(`api@p${i}.shop.test`));
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(memberNodes(JSON.stringify(all))).toEqual(all.map((e) => e.Service.Meta.erlang_node).sort());
      expect(parse).toHaveBeenCalledTimes(1000);
      expect(parse.mock.calls.map(([t]) => t)).toEqual(all.map((e) => JSON.stringify(e)));
    } finally {
      parse.mockRestore();
    }
  });

  test('an instance whose proxy config holds the split point outside a string: parsed whole, nothing lost or made up', () => {
    // `},{"Node":` as structure inside the first instance: the pieces are not JSON, the whole is.
    const tricky = instance('api@api-1.shop.test', { list: [{ a: 1 }, { Node: { Meta: { erlang_node: 'evil@x.shop.test' } } }] });
    const text = JSON.stringify([tricky, instance('api@api-2.shop.test')]);
    expect(text).toContain('},{"Node":{"Meta"');
    expect(memberNodes(text)).toEqual(['api@api-1.shop.test', 'api@api-2.shop.test']);
  });

  test('an empty answer, one instance, and an indented answer', () => {
    expect(memberNodes('[]')).toEqual([]);
    expect(memberNodes(JSON.stringify([instance('a@h.shop.test')]))).toEqual(['a@h.shop.test']);
    const indented = JSON.stringify([instance('b@h.shop.test'), instance('a@h.shop.test')], null, 4) + '\n';
    expect(memberNodes(indented)).toEqual(['a@h.shop.test', 'b@h.shop.test']);
  });

  test('an answer that is not JSON is an error', () => {
    expect(() => memberNodes('[{"Node":{}},{"Node":')).toThrow(SyntaxError);
    expect(() => memberNodes('<html>')).toThrow(SyntaxError);
  });
});
