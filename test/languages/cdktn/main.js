// The two-node example (examples/two-nodes/stack.ts) as a plain JavaScript app whose App and
// TerraformStack come from the module named on the command line: 'cdktn', as CDK Terrain's docs
// write it, or 'cdktf'. Each folder beside this file is one way to install it
// (test/languages/cdktn.test.ts).
//
// Usage: node main.js OUTDIR MODULE. Synthesizes the stack `two-nodes` into OUTDIR, with the same
// construct ids as the TypeScript example.
const { App, TerraformStack } = require(process.argv[3]);
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
