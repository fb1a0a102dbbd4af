package main

import (
	"fmt"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_acl_binding_rule; the ID is the binding rule ID.
func resourceConsulACLBindingRule() *schema.Resource {
	return &schema.Resource{
		Create: resourceConsulACLBindingRuleCreate,
		Read:   resourceConsulACLBindingRuleRead,
		Update: resourceConsulACLBindingRuleUpdate,
		Delete: resourceConsulACLBindingRuleDelete,
		Schema: map[string]*schema.Schema{
			"auth_method": {Type: schema.TypeString, Required: true, ForceNew: true, Description: "The name of the ACL auth method this rule apply."},
			"description": {Type: schema.TypeString, Optional: true, Description: "A free form human readable description of the binding rule."},
			"selector":    {Type: schema.TypeString, Optional: true, Description: "The expression used to match this rule against valid identities returned from an auth method validation."},
			"bind_type":   {Type: schema.TypeString, Required: true, Description: "Specifies the way the binding rule affects a token created at login."},
			"bind_name":   {Type: schema.TypeString, Required: true, Description: "The name to bind to a token at login-time."},
			"bind_vars": {
				Type:        schema.TypeList,
				Optional:    true,
				MaxItems:    1,
				Description: "The variables used when binding rule type is `templated-policy`.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"name": {Type: schema.TypeString, Optional: true, Description: "The name of node, workload identity or service."},
				}},
			},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The namespace to create the binding rule within."},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the ACL binding rule is associated with."},
		},
	}
}

func bindingRuleFromData(d *schema.ResourceData) *consulapi.ACLBindingRule {
	r := &consulapi.ACLBindingRule{
		AuthMethod:  d.Get("auth_method").(string),
		Description: d.Get("description").(string),
		Selector:    d.Get("selector").(string),
		BindType:    consulapi.BindingRuleBindType(d.Get("bind_type").(string)),
		BindName:    d.Get("bind_name").(string),
		Namespace:   optString(d, "namespace"),
		Partition:   optString(d, "partition"),
	}
	if vars := d.Get("bind_vars").([]interface{}); len(vars) > 0 && vars[0] != nil {
		r.BindVars = &consulapi.ACLTemplatedPolicyVariables{Name: vars[0].(map[string]interface{})["name"].(string)}
	}
	return r
}

func resourceConsulACLBindingRuleCreate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r, _, err := client(meta).ACL().BindingRuleCreate(bindingRuleFromData(d), o.write())
	if err != nil {
		return fmt.Errorf("failed to create ACL binding rule: %w", err)
	}
	d.SetId(r.ID)
	return resourceConsulACLBindingRuleRead(d, meta)
}

func resourceConsulACLBindingRuleUpdate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r := bindingRuleFromData(d)
	r.ID = d.Id()
	if _, _, err := client(meta).ACL().BindingRuleUpdate(r, o.write()); err != nil {
		return fmt.Errorf("failed to update ACL binding rule %q: %w", d.Id(), err)
	}
	return resourceConsulACLBindingRuleRead(d, meta)
}

func resourceConsulACLBindingRuleRead(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r, _, err := client(meta).ACL().BindingRuleRead(d.Id(), o.query())
	if isNotFound(err) || (err == nil && r == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read ACL binding rule %q: %w", d.Id(), err)
	}
	vars := []interface{}{}
	if r.BindVars != nil && r.BindVars.Name != "" {
		vars = append(vars, map[string]interface{}{"name": r.BindVars.Name})
	}
	for k, v := range map[string]interface{}{
		"auth_method": r.AuthMethod, "description": r.Description, "selector": r.Selector,
		"bind_type": string(r.BindType), "bind_name": r.BindName, "bind_vars": vars,
	} {
		if err := d.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	// namespace and partition are kept as configured (Consul Enterprise only).
	return nil
}

func resourceConsulACLBindingRuleDelete(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	if _, err := client(meta).ACL().BindingRuleDelete(d.Id(), o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete ACL binding rule %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
