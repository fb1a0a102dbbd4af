package main

import (
	"fmt"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_keys: writes the listed keys; on destroy, and when a key leaves the configuration, deletes
// only the keys with delete = true (the others stay in Consul, as with the real provider).
func resourceConsulKeys() *schema.Resource {
	return &schema.Resource{
		Create:        resourceConsulKeysCreate,
		Read:          resourceConsulKeysRead,
		Update:        resourceConsulKeysUpdate,
		Delete:        resourceConsulKeysDelete,
		SchemaVersion: 1,
		Schema: map[string]*schema.Schema{
			"datacenter": {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"token":      deprecatedTokenSchema(""),
			"key": {
				Type:     schema.TypeSet,
				Optional: true,
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"name": {
						Type:       schema.TypeString,
						Optional:   true,
						Deprecated: "Using consul_keys resource to *read* is deprecated; please use consul_keys data source instead",
					},
					"path":    {Type: schema.TypeString, Required: true},
					"value":   {Type: schema.TypeString, Optional: true, Computed: true},
					"flags":   {Type: schema.TypeInt, Optional: true, Default: 0},
					"default": {Type: schema.TypeString, Optional: true},
					"delete":  {Type: schema.TypeBool, Optional: true, Default: false},
				}},
			},
			"var":       {Type: schema.TypeMap, Computed: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition to create the keys within."},
		},
	}
}

type keySpec struct {
	name, path, value, def string
	flags                  int
	delete                 bool
}

func parseKeys(v interface{}) (map[string]keySpec, error) {
	out := map[string]keySpec{}
	set, _ := v.(*schema.Set)
	if set == nil {
		return out, nil
	}
	for _, raw := range set.List() {
		m := raw.(map[string]interface{})
		k := keySpec{path: m["path"].(string)}
		if k.path == "" {
			return nil, fmt.Errorf("a key block has an empty path")
		}
		k.name, _ = m["name"].(string)
		k.value, _ = m["value"].(string)
		k.def, _ = m["default"].(string)
		k.flags, _ = m["flags"].(int)
		k.delete, _ = m["delete"].(bool)
		out[k.path] = k
	}
	return out, nil
}

func keysOpts(d *schema.ResourceData, meta interface{}) (opts, error) {
	dc, err := getDC(d, meta)
	if err != nil {
		return opts{}, err
	}
	return resourceOpts(d, dc, "namespace", "partition", "token"), nil
}

func putKey(kv *consulapi.KV, o opts, k keySpec) error {
	if k.value == "" {
		return nil // a key with no value is only read (default / name)
	}
	if _, err := kv.Put(&consulapi.KVPair{Key: k.path, Value: []byte(k.value), Flags: uint64(k.flags)}, o.write()); err != nil {
		return fmt.Errorf("failed to write Consul key %q: %w", k.path, err)
	}
	return nil
}

// keysConfigured: the request options, the configured keys by path, and the KV client.
func keysConfigured(d *schema.ResourceData, meta interface{}) (opts, map[string]keySpec, *consulapi.KV, error) {
	o, err := keysOpts(d, meta)
	if err != nil {
		return opts{}, nil, nil, err
	}
	keys, err := parseKeys(d.Get("key"))
	if err != nil {
		return opts{}, nil, nil, err
	}
	return o, keys, client(meta).KV(), nil
}

func resourceConsulKeysCreate(d *schema.ResourceData, meta interface{}) error {
	o, keys, kv, err := keysConfigured(d, meta)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := putKey(kv, o, k); err != nil {
			return err
		}
	}
	// The real provider uses this fixed ID: keys are addressed by path, not by the resource ID.
	d.SetId("consul")
	return resourceConsulKeysRead(d, meta)
}

func resourceConsulKeysUpdate(d *schema.ResourceData, meta interface{}) error {
	o, err := keysOpts(d, meta)
	if err != nil {
		return err
	}
	kv := client(meta).KV()
	if d.HasChange("key") {
		ov, nv := d.GetChange("key")
		om, err := parseKeys(ov)
		if err != nil {
			return err
		}
		nm, err := parseKeys(nv)
		if err != nil {
			return err
		}
		// Write the new keys first, then delete the old keys that are gone (and marked delete).
		for _, k := range nm {
			if err := putKey(kv, o, k); err != nil {
				return err
			}
		}
		for path, k := range om {
			if _, still := nm[path]; still || !k.delete {
				continue
			}
			if _, err := kv.Delete(path, o.write()); err != nil {
				return fmt.Errorf("failed to delete Consul key %q: %w", path, err)
			}
		}
	}
	return resourceConsulKeysRead(d, meta)
}

func resourceConsulKeysRead(d *schema.ResourceData, meta interface{}) error {
	o, keys, kv, err := keysConfigured(d, meta)
	if err != nil {
		return err
	}
	vars := map[string]string{}
	list := make([]interface{}, 0, len(keys))
	for _, k := range keys {
		pair, _, err := kv.Get(k.path, o.query())
		if err != nil {
			return fmt.Errorf("failed to read Consul key %q: %w", k.path, err)
		}
		value, flags := k.def, 0
		if pair != nil {
			value, flags = string(pair.Value), int(pair.Flags)
		}
		if k.name != "" {
			vars[k.name] = value
		}
		list = append(list, map[string]interface{}{
			"name": k.name, "path": k.path, "value": value, "flags": flags, "default": k.def, "delete": k.delete,
		})
	}
	if err := d.Set("key", list); err != nil {
		return err
	}
	if err := d.Set("var", vars); err != nil {
		return err
	}
	return d.Set("datacenter", o.dc)
}

func resourceConsulKeysDelete(d *schema.ResourceData, meta interface{}) error {
	o, keys, kv, err := keysConfigured(d, meta)
	if err != nil {
		return err
	}
	for path, k := range keys {
		if !k.delete {
			continue // not managed for deletion: left in Consul, as the real provider does
		}
		if _, err := kv.Delete(path, o.write()); err != nil {
			return fmt.Errorf("failed to delete Consul key %q: %w", path, err)
		}
	}
	d.SetId("")
	return nil
}
