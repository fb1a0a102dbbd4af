// The two-node example (examples/two-nodes/stack.ts) as a CDK Terrain (cdktn) app. cdktn is
// installed under the name `cdktf` (package.json: "cdktf": "npm:cdktn@0.24.0"), so this app,
// meshx-node and @cdktf/provider-consul (no @cdktn/provider-consul exists) all run on one copy of
// cdktn: its App, its TerraformStack, its resources and its aspects.
//
// Usage: node main.js OUTDIR. Synthesizes the stack `two-nodes` into OUTDIR, with the same
// construct ids as the TypeScript example.
const { App, TerraformStack } = require('cdktf'); // cdktn 0.24
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
