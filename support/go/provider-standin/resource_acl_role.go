package main

import (
	"fmt"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_acl_role; the ID is the role ID.
func resourceConsulACLRole() *schema.Resource {
	strElem := &schema.Schema{Type: schema.TypeString}
	return &schema.Resource{
		Create: resourceConsulACLRoleCreate,
		Read:   resourceConsulACLRoleRead,
		Update: resourceConsulACLRoleUpdate,
		Delete: resourceConsulACLRoleDelete,
		Importer: &schema.ResourceImporter{
			StateContext: schema.ImportStatePassthroughContext,
		},
		Schema: map[string]*schema.Schema{
			"name":        {Type: schema.TypeString, Required: true, Description: "The name of the ACL role."},
			"description": {Type: schema.TypeString, Optional: true, Description: "A free form human readable description of the role."},
			"policies":    {Type: schema.TypeSet, Optional: true, Elem: strElem, Description: "The list of policies that should be applied to the role. Both the policy ID or its name can be used."},
			"service_identities": {
				Type:        schema.TypeSet,
				Optional:    true,
				Description: "The list of service identities that should be applied to the role.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"service_name": {Type: schema.TypeString, Required: true, Description: "The name of the service."},
					"datacenters":  {Type: schema.TypeSet, Optional: true, Elem: strElem, Description: "The datacenters the effective policy is valid within. When no datacenters are provided the effective policy is valid in all datacenters including those which do not yet exist but may in the future."},
				}},
			},
			"node_identities":    nodeIdentitiesSchema("role", "Specifies the node's datacenter."),
			"templated_policies": templatedPoliciesSchema("role"),
			"namespace":          {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The namespace to create the role within."},
			"partition":          {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the ACL role is associated with."},
		},
	}
}

// isUUID: a policy given by ID (Consul IDs are UUIDs), else by name.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

func roleFromData(d *schema.ResourceData) *consulapi.ACLRole {
	r := &consulapi.ACLRole{
		Name:        d.Get("name").(string),
		Description: d.Get("description").(string),
		Namespace:   optString(d, "namespace"),
		Partition:   optString(d, "partition"),
	}
	for _, p := range stringSet(d.Get("policies")) {
		if isUUID(p) {
			r.Policies = append(r.Policies, &consulapi.ACLRolePolicyLink{ID: p})
		} else {
			r.Policies = append(r.Policies, &consulapi.ACLRolePolicyLink{Name: p})
		}
	}
	for _, raw := range d.Get("service_identities").(*schema.Set).List() {
		m := raw.(map[string]interface{})
		r.ServiceIdentities = append(r.ServiceIdentities, &consulapi.ACLServiceIdentity{
			ServiceName: m["service_name"].(string),
			Datacenters: stringSet(m["datacenters"]),
		})
	}
	r.NodeIdentities = nodeIdentitiesFromData(d.Get("node_identities"))
	r.TemplatedPolicies = templatedPoliciesFromData(d.Get("templated_policies"))
	return r
}

func resourceConsulACLRoleCreate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r, _, err := client(meta).ACL().RoleCreate(roleFromData(d), o.write())
	if err != nil {
		return fmt.Errorf("failed to create ACL role %q: %w", d.Get("name").(string), err)
	}
	d.SetId(r.ID)
	return resourceConsulACLRoleRead(d, meta)
}

func resourceConsulACLRoleUpdate(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r := roleFromData(d)
	r.ID = d.Id()
	if _, _, err := client(meta).ACL().RoleUpdate(r, o.write()); err != nil {
		return fmt.Errorf("failed to update ACL role %q: %w", d.Id(), err)
	}
	return resourceConsulACLRoleRead(d, meta)
}

func resourceConsulACLRoleRead(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	r, _, err := client(meta).ACL().RoleRead(d.Id(), o.query())
	if isNotFound(err) || (err == nil && r == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read ACL role %q: %w", d.Id(), err)
	}
	// A policy configured by ID stays an ID, one configured by name stays a name.
	configured := map[string]bool{}
	for _, p := range stringSet(d.Get("policies")) {
		configured[p] = true
	}
	policies := make([]string, 0, len(r.Policies))
	for _, l := range r.Policies {
		if configured[l.ID] {
			policies = append(policies, l.ID)
		} else {
			policies = append(policies, l.Name)
		}
	}
	sids := flattenServiceIdentities(r.ServiceIdentities)
	nids := flattenNodeIdentities(r.NodeIdentities)
	tps := flattenTemplatedPolicies(r.TemplatedPolicies)
	for k, v := range map[string]interface{}{
		"name": r.Name, "description": r.Description, "policies": policies,
		"service_identities": sids, "node_identities": nids, "templated_policies": tps,
	} {
		if err := d.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	// namespace and partition are kept as configured (Consul Enterprise only).
	return nil
}

func resourceConsulACLRoleDelete(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	if _, err := client(meta).ACL().RoleDelete(d.Id(), o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete ACL role %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
