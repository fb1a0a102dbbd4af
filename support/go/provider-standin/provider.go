package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// Config is the configured provider: a client plus the provider-level datacenter.
type Config struct {
	Client     *consulapi.Client
	Datacenter string
	Namespace  string
}

// unsupported lists provider attributes the real 2.22.1 accepts that this stand-in only accepts
// when unset (or false/empty): setting one is an error, never silently ignored.
var unsupported = []string{"ca_file", "ca_path", "ca_pem", "cert_file", "cert_pem", "key_file", "key_pem", "auth_jwt"}

// Provider returns the stand-in provider: the real provider's configuration attributes and the
// five resources meshx-node synthesizes.
func Provider() *schema.Provider {
	str := func(desc string) *schema.Schema {
		return &schema.Schema{Type: schema.TypeString, Optional: true, Description: desc}
	}
	p := &schema.Provider{
		Schema: map[string]*schema.Schema{
			"address": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"CONSUL_HTTP_ADDR", "CONSUL_ADDRESS"}, "localhost:8500"),
				Description: `The HTTP(S) API address of the agent to use. Defaults to "127.0.0.1:8500".`,
			},
			"scheme": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"CONSUL_SCHEME", "CONSUL_HTTP_SCHEME"}, "http"),
				Description: `The URL scheme of the agent to use ("http" or "https"). Defaults to "http".`,
			},
			"http_auth": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.EnvDefaultFunc("CONSUL_HTTP_AUTH", ""),
				Description: "HTTP Basic Authentication credentials to be used when communicating with Consul, in the format of either `user` or `user:pass`.",
			},
			"datacenter": str("The datacenter to use. Defaults to that of the agent."),
			"token": {
				Type:        schema.TypeString,
				Optional:    true,
				Sensitive:   true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"CONSUL_HTTP_TOKEN", "CONSUL_TOKEN"}, ""),
				Description: "The ACL token to use by default when making requests to the agent. Can also be specified with `CONSUL_HTTP_TOKEN` or `CONSUL_TOKEN` as an environment variable.",
			},
			"ca_file":   str("A path to a PEM-encoded certificate authority used to verify the remote agent's certificate. Not supported by the stand-in."),
			"ca_path":   str("A path to a directory of PEM-encoded certificate authority files. Not supported by the stand-in."),
			"ca_pem":    str("PEM-encoded certificate authority used to verify the remote agent's certificate. Not supported by the stand-in."),
			"cert_file": str("A path to a PEM-encoded certificate provided to the remote agent. Not supported by the stand-in."),
			"cert_pem":  str("PEM-encoded certificate provided to the remote agent. Not supported by the stand-in."),
			"key_file":  str("A path to a PEM-encoded private key. Not supported by the stand-in."),
			"key_pem":   str("PEM-encoded private key. Not supported by the stand-in."),
			"insecure_https": {
				Type:        schema.TypeBool,
				Optional:    true,
				Default:     false,
				Description: "Boolean value to disable SSL certificate verification. Not supported by the stand-in (only false).",
			},
			"namespace": str("The namespace to use by default (Consul Enterprise)."),
			"header": {
				Type:        schema.TypeList,
				Optional:    true,
				Sensitive:   true,
				Description: "Additional headers to send with each Consul request.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"name":  {Type: schema.TypeString, Required: true, Description: "The name of the header."},
					"value": {Type: schema.TypeString, Required: true, Description: "The value of the header."},
				}},
			},
			"auth_jwt": {
				Type:        schema.TypeList,
				Optional:    true,
				MaxItems:    1,
				Description: "Authenticates to Consul using a JWT authentication method. Not supported by the stand-in.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"auth_method":                           {Type: schema.TypeString, Required: true, Description: "The name of the auth method to use for login."},
					"bearer_token":                          {Type: schema.TypeString, Optional: true, Sensitive: true, Description: "The bearer token to present to the auth method during login."},
					"use_terraform_cloud_workload_identity": {Type: schema.TypeBool, Optional: true, Description: "Whether to use a Terraform Workload Identity token."},
					"meta":                                  {Type: schema.TypeMap, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}, Description: "Specifies arbitrary KV metadata linked to the token."},
				}},
			},
		},
		ResourcesMap: map[string]*schema.Resource{
			"consul_keys":             resourceConsulKeys(),
			"consul_acl_policy":       resourceConsulACLPolicy(),
			"consul_acl_token":        resourceConsulACLToken(),
			"consul_config_entry":     resourceConsulConfigEntry(),
			"consul_intention":        resourceConsulIntention(),
			"consul_acl_auth_method":  resourceConsulACLAuthMethod(),
			"consul_acl_role":         resourceConsulACLRole(),
			"consul_acl_binding_rule": resourceConsulACLBindingRule(),
			"consul_prepared_query":   resourceConsulPreparedQuery(),
		},
	}
	p.ConfigureContextFunc = configure
	return p
}

func configure(_ context.Context, d *schema.ResourceData) (interface{}, diag.Diagnostics) {
	for _, k := range unsupported {
		if v, ok := d.GetOk(k); ok && v != nil {
			return nil, diag.Errorf("provider attribute %q is set, but it is not supported by the meshx-node stand-in provider "+
				"(the real hashicorp/terraform-provider-consul module is refused by the Go module proxy); "+
				"unset it, or install the real provider binary with MESHX_PROVIDER_CONSUL_BIN", k)
		}
	}
	if d.Get("insecure_https").(bool) {
		return nil, diag.Errorf(`provider attribute "insecure_https" = true is not supported by the meshx-node stand-in provider`)
	}

	cfg := consulapi.DefaultConfig()
	addr := d.Get("address").(string)
	scheme := d.Get("scheme").(string)
	// consul/api also splits a scheme given in the address; do it here so the log is exact.
	if i := strings.Index(addr, "://"); i >= 0 {
		scheme, addr = addr[:i], addr[i+3:]
	}
	if scheme != "http" && scheme != "https" {
		return nil, diag.Errorf("scheme %q: only http and https are supported by the meshx-node stand-in provider", scheme)
	}
	cfg.Address = addr
	cfg.Scheme = scheme
	cfg.Token = d.Get("token").(string)
	cfg.Datacenter = d.Get("datacenter").(string)
	cfg.Namespace = d.Get("namespace").(string)
	if auth := d.Get("http_auth").(string); auth != "" {
		user, pass, _ := strings.Cut(auth, ":")
		cfg.HttpAuth = &consulapi.HttpBasicAuth{Username: user, Password: pass}
	}
	client, err := consulapi.NewClient(cfg)
	if err != nil {
		return nil, diag.FromErr(fmt.Errorf("consul client: %w", err))
	}
	if hs := d.Get("header").([]interface{}); len(hs) > 0 {
		h := http.Header{}
		for _, raw := range hs {
			m := raw.(map[string]interface{})
			h.Add(m["name"].(string), m["value"].(string))
		}
		client.SetHeaders(h)
	}
	log.Printf("[INFO] %s: Consul agent %s://%s (pid %d)", Identity, scheme, addr, os.Getpid())
	return &Config{Client: client, Datacenter: cfg.Datacenter, Namespace: cfg.Namespace}, nil
}
