import { validateManifest } from '../../../lib/manifest/validate';
import { AddressBook } from '../../../lib/runtime/topology/addresses';
import { planUpstreams, refusal } from '../../../lib/runtime/topology/versions';
import { validManifest } from '../../fixtures/manifests';

const live = () => validateManifest(validManifest());
/** The upstreams as the boot resolved them (ports picked). */
const inForce = () => live().upstreams.map((u, i) => ({ ...u, port: 30001 + i }));
const bookOf = () => {
  const book = new AddressBook('orders-1.shop.test');
  book.assign(live().upstreams.map((u) => ({ host: u.node.split('@')[1], preferred: u.address })));
  return book;
};

describe('refusal: what a running node cannot take', () => {
  test('the same version, or one with other upstreams, tags or meta, is fine', () => {
    const next = validManifest();
    next.upstreams.pop();
    next.service.tags = ['x'];
    expect(refusal(live(), validateManifest(next))).toBeUndefined();
  });

  test.each([
    ['node', (m: any) => (m.node = 'other@orders-1.shop.test')],
    ['service.id', (m: any) => (m.service.id = 'shop-other')],
    ['service.name', (m: any) => (m.service.name = 'shop-other')],
    ['service.distPort', (m: any) => (m.service.distPort = 9100)],
    ['epmdPort', (m: any) => (m.epmdPort = 4370)],
    ['sidecar.port', (m: any) => (m.sidecar.port = 21000)],
    ['sidecar.proxy', (m: any) => (m.sidecar.proxy = 'envoy')],
    ['mesh', (m: any) => (m.mesh = 'other')],
  ])('a changed %s is refused, naming the field', (field, change) => {
    const next = validManifest();
    change(next);
    expect(refusal(live(), next)).toMatch(
      new RegExp(`manifest field '${field.replace('.', '\\.')}' changed from .* to .*: a running node cannot take it`),
    );
  });

  test('a changed proxy config is refused; the same one in another key order is not', () => {
    const withConfig = (config?: Record<string, unknown>) => ({ ...validManifest(), sidecar: { port: 0, proxy: 'builtin', config } }) as any;
    const was = withConfig({ handshake_timeout_ms: 5000, local_connect_timeout_ms: 500 });
    expect(refusal(was, withConfig({ local_connect_timeout_ms: 500, handshake_timeout_ms: 5000 }))).toBeUndefined();
    expect(refusal(was, withConfig({ handshake_timeout_ms: 6000, local_connect_timeout_ms: 500 }))).toMatch(
      /manifest field 'sidecar\.config' changed: a running node cannot take it/,
    );
    expect(refusal(live(), withConfig({}))).toBeUndefined();
    expect(refusal(live(), withConfig({ handshake_timeout_ms: 1 }))).toMatch(/sidecar\.config/);
  });
});

describe('planUpstreams', () => {
  test('unchanged upstreams keep the port in force; a new one asks for its manifest port; a removed one is listed', () => {
    const next = validManifest();
    next.upstreams = [next.upstreams[0], { node: 'audit@audit-1.shop.test', service: 'shop-audit', address: '127.0.0.3', port: 0 }];
    const plan = planUpstreams(live(), inForce(), validateManifest(next), bookOf());
    expect(plan.upstreams.map((u) => [u.node, u.address, u.port])).toEqual([
      ['billing@billing-1.shop.test', '127.0.0.2', 30001],
      // 127.0.0.3 (the synth's, by position) stays reserved for the removed stock-1 host.
      ['audit@audit-1.shop.test', '127.0.0.4', 0],
    ]);
    expect(plan.added.map((u) => u.node)).toEqual(['audit@audit-1.shop.test']);
    expect(plan.removed).toEqual([{ ...inForce()[1] }]);
  });

  test('an upstream whose fixed port or datacenter changed is replaced (removed and added)', () => {
    const next = validManifest();
    next.upstreams[0].port = 31000;
    next.upstreams[1].datacenter = 'dc2';
    const plan = planUpstreams(live(), inForce(), validateManifest(next), bookOf());
    expect(plan.added.map((u) => [u.node, u.port])).toEqual([['billing@billing-1.shop.test', 31000], ['stock@stock-1.shop.test', 0]]);
    expect(plan.removed.map((u) => u.node)).toEqual(['billing@billing-1.shop.test', 'stock@stock-1.shop.test']);
    expect(plan.upstreams.map((u) => u.address)).toEqual(['127.0.0.2', '127.0.0.3']);
  });
});
