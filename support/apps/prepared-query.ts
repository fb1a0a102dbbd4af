// Prepared queries for the stand-in provider's deploy test (test/integration/prepared-query.test.ts).
// Stack `prepared-query`: the template replicas (issue 24) will use: `meshx~shop~<service>~<alive@host>`
// resolves to the instance of <service> whose Meta.erlang_node is <alive@host> in mesh shop
// (docs/design/replicas-probe.md, Q2). cdktf does not escape `${`: `$${match(1)}` reaches Consul as
// the literal `${match(1)}`.
// Stack `prepared-query-all`: a named query with every other attribute and block the binding
// exposes, to check that each one reads back without a diff.
import { PreparedQuery } from '@cdktf/provider-consul/lib/prepared-query';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { App, TerraformStack } from 'cdktf';

const app = new App();

const replicas = new TerraformStack(app, 'prepared-query');
new ConsulProvider(replicas, 'consul', {});
new PreparedQuery(replicas, 'ShopReplicas', {
  name: 'meshx~shop~',
  template: { type: 'name_prefix_match', regexp: '^meshx~shop~([a-z0-9-]+)~([A-Za-z0-9_-]+@[A-Za-z0-9.-]+)$' },
  service: '$${match(1)}',
  serviceMeta: { erlang_node: '$${match(2)}', meshx_mesh: 'shop' },
  onlyPassing: true,
});

const all = new TerraformStack(app, 'prepared-query-all');
new ConsulProvider(all, 'consul', {});
new PreparedQuery(all, 'Everything', {
  name: 'meshx-all-attributes',
  service: 'api',
  storedToken: '00000000-0000-4000-8000-000000000001',
  tags: ['blue', '!canary', 'arm64'],
  near: '_agent',
  onlyPassing: true,
  connect: true,
  ignoreCheckIds: ['serfHealth', 'api-ttl'],
  nodeMeta: { rack: 'r1' },
  serviceMeta: { meshx_mesh: 'shop', version: '2' },
  dns: { ttl: '15s' },
  failover: { targets: [{ datacenter: 'dc2' }, { datacenter: 'dc3' }] },
});
new PreparedQuery(all, 'FailoverNearest', {
  name: 'meshx-failover-nearest',
  service: 'api',
  failover: { nearestN: 2, datacenters: ['dc2', 'dc3'] },
  template: { type: 'name_prefix_match', regexp: '^meshx-failover-nearest(.*)$', removeEmptyTags: true },
});
app.synth();
