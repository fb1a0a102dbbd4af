package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_acl_auth_method; the ID is "auth-method-<name>" and the name is the key in Consul.
func resourceConsulACLAuthMethod() *schema.Resource {
	return &schema.Resource{
		Create: resourceConsulACLAuthMethodCreate,
		Read:   resourceConsulACLAuthMethodRead,
		Update: resourceConsulACLAuthMethodUpdate,
		Delete: resourceConsulACLAuthMethodDelete,
		Schema: map[string]*schema.Schema{
			"name":         {Type: schema.TypeString, Required: true, ForceNew: true, Description: "The name of the ACL auth method."},
			"type":         {Type: schema.TypeString, Required: true, ForceNew: true, Description: "The type of the ACL auth method."},
			"display_name": {Type: schema.TypeString, Optional: true, Description: "An optional name to use instead of the name attribute when displaying information about this auth method."},
			"description":  {Type: schema.TypeString, Optional: true, Description: "A free form human readable description of the auth method."},
			"max_token_ttl": {
				Type:             schema.TypeString,
				Optional:         true,
				DiffSuppressFunc: sameDuration,
				Description:      "The maximum life of any token created by this auth method.",
			},
			"token_locality": {Type: schema.TypeString, Optional: true, Description: "The kind of token that this auth method produces. This can be either 'local' or 'global'."},
			"config_json": {
				Type:             schema.TypeString,
				Optional:         true,
				DiffSuppressFunc: sameAuthMethodConfig,
				Description:      "The raw configuration for this ACL auth method.",
			},
			"config": {
				Type:          schema.TypeMap,
				Optional:      true,
				Elem:          &schema.Schema{Type: schema.TypeString},
				Deprecated:    "The config attribute is deprecated, please use config_json instead.",
				ConflictsWith: []string{"config_json"},
				Description:   "The raw configuration for this ACL auth method.",
			},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The namespace in which to create the auth method."},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the ACL auth method is associated with."},
			"namespace_rule": {
				Type:     schema.TypeList,
				Optional: true,
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"selector":       {Type: schema.TypeString, Optional: true, Description: "Specifies the expression used to match this namespace rule against valid identities returned from an auth method validation."},
					"bind_namespace": {Type: schema.TypeString, Required: true, Description: "If the namespace rule's `selector` matches then this is used to control the namespace where the token is created."},
				}},
			},
		},
	}
}

func authMethodFromData(d *schema.ResourceData) (*consulapi.ACLAuthMethod, error) {
	m := &consulapi.ACLAuthMethod{
		Name:          d.Get("name").(string),
		Type:          d.Get("type").(string),
		DisplayName:   d.Get("display_name").(string),
		Description:   d.Get("description").(string),
		TokenLocality: d.Get("token_locality").(string),
		Namespace:     optString(d, "namespace"),
		Partition:     optString(d, "partition"),
	}
	if v := optString(d, "max_token_ttl"); v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("max_token_ttl: %w", err)
		}
		m.MaxTokenTTL = ttl
	}
	if v := optString(d, "config_json"); v != "" {
		if err := json.Unmarshal([]byte(v), &m.Config); err != nil {
			return nil, fmt.Errorf("config_json: %w", err)
		}
	} else if raw, ok := d.GetOk("config"); ok {
		m.Config = map[string]interface{}{}
		for k, v := range raw.(map[string]interface{}) {
			m.Config[k] = v
		}
	}
	for _, raw := range d.Get("namespace_rule").([]interface{}) {
		r := raw.(map[string]interface{})
		m.NamespaceRules = append(m.NamespaceRules, &consulapi.ACLAuthMethodNamespaceRule{
			Selector: r["selector"].(string), BindNamespace: r["bind_namespace"].(string),
		})
	}
	return m, nil
}

func resourceConsulACLAuthMethodCreate(d *schema.ResourceData, meta interface{}) error {
	m, err := authMethodFromData(d)
	if err != nil {
		return err
	}
	o := resourceOpts(d, "", "namespace", "partition")
	if _, _, err := client(meta).ACL().AuthMethodCreate(m, o.write()); err != nil {
		return fmt.Errorf("failed to create ACL auth method %q: %w", m.Name, err)
	}
	d.SetId("auth-method-" + m.Name)
	return resourceConsulACLAuthMethodRead(d, meta)
}

func resourceConsulACLAuthMethodUpdate(d *schema.ResourceData, meta interface{}) error {
	m, err := authMethodFromData(d)
	if err != nil {
		return err
	}
	o := resourceOpts(d, "", "namespace", "partition")
	if _, _, err := client(meta).ACL().AuthMethodUpdate(m, o.write()); err != nil {
		return fmt.Errorf("failed to update ACL auth method %q: %w", m.Name, err)
	}
	return resourceConsulACLAuthMethodRead(d, meta)
}

func resourceConsulACLAuthMethodRead(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	name := d.Get("name").(string)
	m, _, err := client(meta).ACL().AuthMethodRead(name, o.query())
	if isNotFound(err) || (err == nil && m == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read ACL auth method %q: %w", name, err)
	}
	ttl := ""
	if m.MaxTokenTTL != 0 {
		ttl = m.MaxTokenTTL.String()
	}
	rules := make([]interface{}, 0, len(m.NamespaceRules))
	for _, r := range m.NamespaceRules {
		rules = append(rules, map[string]interface{}{"selector": r.Selector, "bind_namespace": r.BindNamespace})
	}
	values := map[string]interface{}{
		"name": m.Name, "type": m.Type, "display_name": m.DisplayName, "description": m.Description,
		"max_token_ttl": ttl, "token_locality": m.TokenLocality, "namespace_rule": rules,
	}
	if _, ok := d.GetOk("config"); ok {
		flat := map[string]interface{}{}
		for k, v := range m.Config {
			if s, ok := v.(string); ok {
				flat[k] = s
			} else {
				b, _ := json.Marshal(v)
				flat[k] = string(b)
			}
		}
		values["config"] = flat
	} else {
		b, err := json.Marshal(m.Config)
		if err != nil {
			return fmt.Errorf("config_json: %w", err)
		}
		values["config_json"] = string(b)
	}
	for k, v := range values {
		if err := d.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	// namespace and partition are kept as configured (Consul Enterprise only).
	return nil
}

func resourceConsulACLAuthMethodDelete(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	name := d.Get("name").(string)
	if _, err := client(meta).ACL().AuthMethodDelete(name, o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete ACL auth method %q: %w", name, err)
	}
	d.SetId("")
	return nil
}

// sameDuration: "24h" and "24h0m0s" are the same TTL.
func sameDuration(_, old, new string, _ *schema.ResourceData) bool {
	if old == new {
		return true
	}
	a, errA := time.ParseDuration(strings.TrimSpace(old))
	b, errB := time.ParseDuration(strings.TrimSpace(new))
	if old == "" {
		a, errA = 0, nil
	}
	if new == "" {
		b, errB = 0, nil
	}
	return errA == nil && errB == nil && a == b
}

// sameAuthMethodConfig: the same JSON document, ignoring formatting, key order and zero values.
func sameAuthMethodConfig(_, old, new string, _ *schema.ResourceData) bool {
	if old == new {
		return true
	}
	var a, b interface{}
	if json.Unmarshal([]byte(old), &a) != nil || json.Unmarshal([]byte(new), &b) != nil {
		return false
	}
	return reflect.DeepEqual(prune(a), prune(b))
}
