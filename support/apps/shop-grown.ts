// examples/two-nodes after a change, for the deploy tests: a third node (shipping) joins, and
// the orders <-> billing edge is removed in favour of orders <-> shipping. Same stack name and
// construct ids, so Terraform changes the deployed stack in place.
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { BeamMesh, ProxyKind } from '../../lib';

const app = new App();
const stack = new TerraformStack(app, 'two-nodes');
new ConsulProvider(stack, 'consul', {});
const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop', proxy: ProxyKind.BUILTIN });
const orders = mesh.addNode('Orders', { nodeName: 'orders@orders-1.shop.test', tags: ['orders'] });
mesh.addNode('Billing', { nodeName: 'billing@billing-1.shop.test', tags: ['billing'] });
const shipping = mesh.addNode('Shipping', { nodeName: 'shipping@shipping-1.shop.test', tags: ['shipping'] });
mesh.connect(orders, shipping);
app.synth();
