// Command terraform-provider-consul is meshx-node's STAND-IN for the Terraform Consul provider
// (hashicorp/consul 2.22.1). The Go module proxy refuses the real provider's module, so this
// small provider, written by meshx-node on terraform-plugin-sdk/v2 and consul/api, implements the
// five resources meshx-node synthesizes, with the real provider's attribute schema. Everything
// else in the chain (Terraform CLI, cdktf, plans, state, the Consul agent) is real. A real
// provider binary given to scripts/go-tools.sh in MESHX_PROVIDER_CONSUL_BIN replaces it.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-sdk/v2/plugin"
)

// Version is the provider version this stand-in answers for (the mirror path and the lock file
// name it); Identity says what it really is.
const (
	Version  = "2.22.1"
	Identity = "meshx-node stand-in for the Terraform Consul provider (not the HashiCorp provider)"
)

func main() {
	for _, a := range os.Args[1:] {
		switch a {
		case "--version", "-version", "version":
			fmt.Printf("terraform-provider-consul v%s: %s\n", Version, Identity)
			fmt.Println("resources: consul_keys, consul_acl_policy, consul_acl_token, consul_config_entry, consul_intention")
			return
		}
	}
	log.Printf("[INFO] terraform-provider-consul v%s: %s", Version, Identity)
	plugin.Serve(&plugin.ServeOpts{ProviderFunc: Provider})
}
