"""The two-node example (examples/two-nodes/stack.ts) written in Python.

Usage: python main.py OUTDIR. Synthesizes the stack `two-nodes` into OUTDIR, with the same
construct ids as the TypeScript example, so the output can be compared byte for byte.
"""
import sys

from cdktf import App, TerraformStack
from cdktf_cdktf_provider_consul.provider import ConsulProvider
from constructs import Construct
from meshx_node import BeamMesh, ProxyKind


class TwoNodesStack(TerraformStack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        # Address and token from CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
        ConsulProvider(self, "consul")
        self.mesh = BeamMesh(self, "Mesh", name="shop", proxy=ProxyKind.BUILTIN)
        self.orders = self.mesh.add_node("Orders", node_name="orders@orders-1.shop.test", tags=["orders"])
        self.billing = self.mesh.add_node("Billing", node_name="billing@billing-1.shop.test", tags=["billing"])
        self.mesh.connect(self.orders, self.billing)


app = App(outdir=sys.argv[1])
TwoNodesStack(app, "two-nodes")
app.synth()
