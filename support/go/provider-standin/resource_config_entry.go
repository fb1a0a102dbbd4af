package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_config_entry; the ID is "<kind>-<name>". config_json holds the entry without Kind, Name,
// Namespace and Partition; the diff is suppressed when both JSON documents decode (with
// consul/api's DecodeConfigEntry) to the same entry, once zero values are dropped, so field order
// and the empty members the agent adds do not make a permanent diff. Fields the agent computes
// (e.g. a service-intentions source's Precedence) must be in config_json, or the plan shows a
// diff: the same known pitfall as the real provider.
func resourceConsulConfigEntry() *schema.Resource {
	return &schema.Resource{
		Create: resourceConsulConfigEntryWrite,
		Read:   resourceConsulConfigEntryRead,
		Update: resourceConsulConfigEntryWrite,
		Delete: resourceConsulConfigEntryDelete,
		Schema: map[string]*schema.Schema{
			"kind":      {Type: schema.TypeString, Required: true, ForceNew: true},
			"name":      {Type: schema.TypeString, Required: true, ForceNew: true},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the config entry is associated with."},
			"config_json": {
				Type:             schema.TypeString,
				Optional:         true,
				DiffSuppressFunc: diffConfigJSON,
				ValidateFunc: func(v interface{}, k string) ([]string, []error) {
					if s := v.(string); s != "" {
						var m map[string]interface{}
						if err := json.Unmarshal([]byte(s), &m); err != nil {
							return nil, []error{fmt.Errorf("%s is not a JSON object: %v", k, err)}
						}
					}
					return nil, nil
				},
			},
		},
	}
}

// decodeEntry decodes a config_json document for kind/name into a typed config entry.
func decodeEntry(kind, name, ns, partition, doc string) (consulapi.ConfigEntry, error) {
	m := map[string]interface{}{}
	if doc != "" {
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("config_json: %w", err)
		}
	}
	for _, k := range []string{"kind", "Kind", "name", "Name", "namespace", "Namespace", "partition", "Partition"} {
		delete(m, k)
	}
	m["Kind"], m["Name"] = kind, name
	if ns != "" {
		m["Namespace"] = ns
	}
	if partition != "" {
		m["Partition"] = partition
	}
	return consulapi.DecodeConfigEntry(m)
}

func diffConfigJSON(_, old, new string, d *schema.ResourceData) bool {
	kind, name := d.Get("kind").(string), d.Get("name").(string)
	on, err := normalizedEntry(kind, name, old)
	if err != nil {
		return false
	}
	nn, err := normalizedEntry(kind, name, new)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(on, nn)
}

// normalizedEntry decodes a config_json document into the typed entry (so unknown fields, field
// order and Consul's case-insensitive spelling do not matter), encodes it again, and drops the
// zero values: what Consul itself would store for the document.
func normalizedEntry(kind, name, doc string) (interface{}, error) {
	e, err := decodeEntry(kind, name, "", "", doc)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return prune(v), nil
}

// prune removes, recursively, the members whose value is null, false, 0, "", {} or [] (what a
// Go struct decodes to when the member is absent). Empty results become nil.
func prune(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			if p := prune(e); p == nil {
				delete(t, k)
			} else {
				t[k] = p
			}
		}
		if len(t) == 0 {
			return nil
		}
		return t
	case []interface{}:
		out := make([]interface{}, 0, len(t))
		for _, e := range t {
			p := prune(e)
			if p == nil {
				p = map[string]interface{}{} // keep list positions
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if t == "" {
			return nil
		}
	case bool:
		if !t {
			return nil
		}
	case float64:
		if t == 0 {
			return nil
		}
	case nil:
		return nil
	}
	return v
}

// entryToJSON is the entry as config_json: its JSON without the fields that are attributes of
// the resource or that the agent sets (CreateIndex, ModifyIndex), and without zero values (the
// agent answers with every struct member, e.g. "MeshGateway": {}).
func entryToJSON(e consulapi.ConfigEntry) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	m := map[string]interface{}{}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	for _, k := range []string{"Kind", "Name", "Namespace", "Partition", "CreateIndex", "ModifyIndex"} {
		delete(m, k)
	}
	p, _ := prune(m).(map[string]interface{})
	if p == nil {
		p = map[string]interface{}{}
	}
	// No HTML escaping: "->" in a description stays readable in the state and in plans.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func resourceConsulConfigEntryWrite(d *schema.ResourceData, meta interface{}) error {
	kind, name := d.Get("kind").(string), d.Get("name").(string)
	o := resourceOpts(d, "", "namespace", "partition")
	e, err := decodeEntry(kind, name, o.ns, o.partition, d.Get("config_json").(string))
	if err != nil {
		return fmt.Errorf("failed to decode config entry %s/%s: %w", kind, name, err)
	}
	ok, _, err := client(meta).ConfigEntries().Set(e, o.write())
	if err != nil {
		return fmt.Errorf("failed to write config entry %s/%s: %w", kind, name, err)
	}
	if !ok {
		return fmt.Errorf("the agent did not accept config entry %s/%s", kind, name)
	}
	d.SetId(fmt.Sprintf("%s-%s", kind, name))
	return resourceConsulConfigEntryRead(d, meta)
}

func resourceConsulConfigEntryRead(d *schema.ResourceData, meta interface{}) error {
	kind, name := d.Get("kind").(string), d.Get("name").(string)
	o := resourceOpts(d, "", "namespace", "partition")
	e, _, err := client(meta).ConfigEntries().Get(kind, name, o.query())
	if isNotFound(err) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read config entry %s/%s: %w", kind, name, err)
	}
	doc, err := entryToJSON(e)
	if err != nil {
		return fmt.Errorf("failed to encode config entry %s/%s: %w", kind, name, err)
	}
	return d.Set("config_json", doc)
}

func resourceConsulConfigEntryDelete(d *schema.ResourceData, meta interface{}) error {
	kind, name := d.Get("kind").(string), d.Get("name").(string)
	o := resourceOpts(d, "", "namespace", "partition")
	if _, err := client(meta).ConfigEntries().Delete(kind, name, o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete config entry %s/%s: %w", kind, name, err)
	}
	d.SetId("")
	return nil
}
