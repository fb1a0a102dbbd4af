package main

import (
	"fmt"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_acl_policy; the ID is the policy ID.
func resourceConsulACLPolicy() *schema.Resource {
	return &schema.Resource{
		Create: resourceConsulACLPolicyCreate,
		Read:   resourceConsulACLPolicyRead,
		Update: resourceConsulACLPolicyUpdate,
		Delete: resourceConsulACLPolicyDelete,
		Importer: &schema.ResourceImporter{
			StateContext: schema.ImportStatePassthroughContext,
		},
		Schema: map[string]*schema.Schema{
			"name":        {Type: schema.TypeString, Required: true, Description: "The ACL policy name."},
			"description": {Type: schema.TypeString, Optional: true, Description: "The ACL policy description."},
			"rules":       {Type: schema.TypeString, Required: true, Description: "The ACL policy rules."},
			"datacenters": {
				Type:        schema.TypeSet,
				Optional:    true,
				Elem:        &schema.Schema{Type: schema.TypeString},
				Description: "The ACL policy datacenters.",
			},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the ACL policy is associated with."},
		},
	}
}

func policyFromData(d *schema.ResourceData) *consulapi.ACLPolicy {
	return &consulapi.ACLPolicy{
		Name:        d.Get("name").(string),
		Description: d.Get("description").(string),
		Rules:       d.Get("rules").(string),
		Datacenters: stringSet(d.Get("datacenters")),
		Namespace:   optString(d, "namespace"),
		Partition:   optString(d, "partition"),
	}
}

func resourceConsulACLPolicyCreate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	p, _, err := client(meta).ACL().PolicyCreate(policyFromData(d), o.write())
	if err != nil {
		return fmt.Errorf("failed to create ACL policy %q: %w", d.Get("name").(string), err)
	}
	d.SetId(p.ID)
	return resourceConsulACLPolicyRead(d, meta)
}

func resourceConsulACLPolicyUpdate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	p := policyFromData(d)
	p.ID = d.Id()
	if _, _, err := client(meta).ACL().PolicyUpdate(p, o.write()); err != nil {
		return fmt.Errorf("failed to update ACL policy %q: %w", d.Id(), err)
	}
	return resourceConsulACLPolicyRead(d, meta)
}

func resourceConsulACLPolicyRead(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	p, _, err := client(meta).ACL().PolicyRead(d.Id(), o.query())
	if isNotFound(err) || (err == nil && p == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read ACL policy %q: %w", d.Id(), err)
	}
	for k, v := range map[string]interface{}{
		"name": p.Name, "description": p.Description, "rules": p.Rules, "datacenters": p.Datacenters,
	} {
		if err := d.Set(k, v); err != nil {
			return err
		}
	}
	// namespace and partition are kept as configured (Consul Enterprise only; CE answers
	// without them, or with "default").
	return nil
}

func resourceConsulACLPolicyDelete(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	if _, err := client(meta).ACL().PolicyDelete(d.Id(), o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete ACL policy %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
