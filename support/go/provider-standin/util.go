package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

func client(meta interface{}) *consulapi.Client { return meta.(*Config).Client }

// isNotFound: a 404, or Consul's "ACL not found" (a deleted token or policy answers 403 on some
// versions).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var se consulapi.StatusError
	if errors.As(err, &se) && se.Code == 404 {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "ACL not found") || strings.Contains(msg, "Unexpected response code: 404") ||
		strings.Contains(msg, "Unexpected response 404")
}

// getDC is the datacenter of a resource: its own attribute, else the provider's, else the
// agent's.
func getDC(d *schema.ResourceData, meta interface{}) (string, error) {
	if v, ok := d.GetOk("datacenter"); ok && v.(string) != "" {
		return v.(string), nil
	}
	if dc := meta.(*Config).Datacenter; dc != "" {
		return dc, nil
	}
	self, err := client(meta).Agent().Self()
	if err != nil {
		return "", fmt.Errorf("failed to get the agent's datacenter (set datacenter to skip this): %w", err)
	}
	dc, _ := self["Config"]["Datacenter"].(string)
	if dc == "" {
		return "", errors.New("the agent reported no datacenter")
	}
	return dc, nil
}

func optString(d *schema.ResourceData, key string) string {
	if v, ok := d.GetOk(key); ok {
		return v.(string)
	}
	return ""
}

func stringSet(v interface{}) []string {
	var out []string
	switch t := v.(type) {
	case *schema.Set:
		for _, e := range t.List() {
			out = append(out, e.(string))
		}
	case []interface{}:
		for _, e := range t {
			if e != nil {
				out = append(out, e.(string))
			}
		}
	}
	sort.Strings(out)
	return out
}

func stringList(v interface{}) []string {
	var out []string
	for _, e := range v.([]interface{}) {
		if e != nil {
			out = append(out, e.(string))
		}
	}
	return out
}

// opts are the request options of a resource; keys lists which of namespace, partition and token
// the resource's schema has (ResourceData.Get is only called for attributes that exist).
type opts struct{ dc, ns, partition, token string }

func resourceOpts(d *schema.ResourceData, dc string, keys ...string) opts {
	o := opts{dc: dc}
	for _, k := range keys {
		switch k {
		case "namespace":
			o.ns = optString(d, k)
		case "partition":
			o.partition = optString(d, k)
		case "token":
			o.token = optString(d, k)
		}
	}
	return o
}

func (o opts) write() *consulapi.WriteOptions {
	return &consulapi.WriteOptions{Datacenter: o.dc, Namespace: o.ns, Partition: o.partition, Token: o.token}
}

func (o opts) query() *consulapi.QueryOptions {
	return &consulapi.QueryOptions{Datacenter: o.dc, Namespace: o.ns, Partition: o.partition, Token: o.token}
}

// deprecatedTokenSchema: a resource's own `token` attribute, which the real provider deprecates in
// favour of the provider's.
func deprecatedTokenSchema(desc string) *schema.Schema {
	return &schema.Schema{
		Type:        schema.TypeString,
		Optional:    true,
		Sensitive:   true,
		Description: desc,
		Deprecated: "The token argument has been deprecated and will be removed in a future release.\n" +
			"Please use the token argument in the provider configuration",
	}
}

// setAll writes read-back values into the state; the first failure names its attribute.
func setAll(d *schema.ResourceData, values map[string]interface{}) error {
	for k, v := range values {
		if err := d.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}
