// The two-node example (examples/two-nodes/stack.ts) written in Go.
//
// Usage: go run . OUTDIR. Synthesizes the stack `two-nodes` into OUTDIR, with the same construct
// ids as the TypeScript example, so the output can be compared byte for byte.
package main

import (
	"os"

	"example.invalid/meshx-node-go/meshxnode"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-consul-go/consul/v10/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func NewTwoNodesStack(scope constructs.Construct, id string) cdktf.TerraformStack {
	stack := cdktf.NewTerraformStack(scope, jsii.String(id))
	// Address and token from CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
	provider.NewConsulProvider(stack, jsii.String("consul"), &provider.ConsulProviderConfig{})
	mesh := meshxnode.NewBeamMesh(stack, jsii.String("Mesh"), &meshxnode.BeamMeshProps{
		Name:  jsii.String("shop"),
		Proxy: meshxnode.ProxyKind_BUILTIN,
	})
	orders := mesh.AddNode(jsii.String("Orders"), &meshxnode.BeamNodeProps{
		NodeName: jsii.String("orders@orders-1.shop.test"),
		Tags:     jsii.Strings("orders"),
	})
	billing := mesh.AddNode(jsii.String("Billing"), &meshxnode.BeamNodeProps{
		NodeName: jsii.String("billing@billing-1.shop.test"),
		Tags:     jsii.Strings("billing"),
	})
	mesh.Connect(orders, billing, nil)
	return stack
}

func main() {
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(os.Args[1])})
	NewTwoNodesStack(app, "two-nodes")
	app.Synth()
}
