// The two-node example (examples/two-nodes/stack.ts) as a CDK Terrain (cdktn) app: App and
// TerraformStack from cdktn; BeamMesh and the Consul provider (no @cdktn/provider-consul exists)
// built on cdktf classes, which cdktn synthesizes alike.
//
// Usage: node main.js OUTDIR. Synthesizes the stack `two-nodes` into OUTDIR, with the same
// construct ids as the TypeScript example.
const { App, TerraformStack } = require('cdktn');
const { ConsulProvider } = require('@cdktf/provider-consul/lib/provider');
const { BeamMesh, ProxyKind } = require('meshx-node');

class TwoNodesStack extends TerraformStack {
  constructor(scope, id) {
    super(scope, id);
    // Address and token from CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
    new ConsulProvider(this, 'consul', {});
    this.mesh = new BeamMesh(this, 'Mesh', { name: 'shop', proxy: ProxyKind.BUILTIN });
    this.orders = this.mesh.addNode('Orders', { nodeName: 'orders@orders-1.shop.test', tags: ['orders'] });
    this.billing = this.mesh.addNode('Billing', { nodeName: 'billing@billing-1.shop.test', tags: ['billing'] });
    this.mesh.connect(this.orders, this.billing);
  }
}

const app = new App({ outdir: process.argv[2] });
new TwoNodesStack(app, 'two-nodes');
app.synth();
