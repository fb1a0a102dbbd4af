package main

import (
	"fmt"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
)

// consul_acl_token; the ID is the accessor ID. As in the real 2.22.1 there is no secret
// attribute: the secret never enters the state.
func resourceConsulACLToken() *schema.Resource {
	strList := &schema.Schema{Type: schema.TypeString}
	return &schema.Resource{
		Create: resourceConsulACLTokenCreate,
		Read:   resourceConsulACLTokenRead,
		Update: resourceConsulACLTokenUpdate,
		Delete: resourceConsulACLTokenDelete,
		Importer: &schema.ResourceImporter{
			StateContext: schema.ImportStatePassthroughContext,
		},
		Schema: map[string]*schema.Schema{
			"accessor_id": {
				Type:         schema.TypeString,
				Optional:     true,
				Computed:     true,
				ForceNew:     true,
				ValidateFunc: validation.IsUUID,
				Description:  "The uuid of the token. If omitted, Consul will generate a random uuid.",
			},
			"description": {Type: schema.TypeString, Optional: true, Description: "The description of the token."},
			"policies":    {Type: schema.TypeSet, Optional: true, Elem: strList, Description: "The list of policies attached to the token."},
			"roles":       {Type: schema.TypeSet, Optional: true, Elem: strList, Description: "The list of roles attached to the token."},
			"service_identities": {
				Type:        schema.TypeList,
				Optional:    true,
				Description: "The list of service identities that should be applied to the token.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"service_name": {Type: schema.TypeString, Required: true, Description: "The name of the service."},
					"datacenters":  {Type: schema.TypeList, Optional: true, Elem: strList, Description: "Specifies the datacenters the effective policy is valid within."},
				}},
			},
			"node_identities":    nodeIdentitiesSchema("token", "The datacenter of the node."),
			"templated_policies": templatedPoliciesSchema("token"),
			"local":              {Type: schema.TypeBool, Optional: true, ForceNew: true, Description: "The flag to set the token local to the current datacenter."},
			"expiration_time": {
				Type:         schema.TypeString,
				Optional:     true,
				ForceNew:     true,
				ValidateFunc: validation.IsRFC3339Time,
				Description:  "If set this represents the point after which a token should be considered revoked and is eligible for destruction.",
			},
			"namespace": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The namespace to create the token within."},
			"partition": {Type: schema.TypeString, Optional: true, ForceNew: true, Description: "The partition the ACL token is associated with."},
		},
	}
}

func tokenFromData(d *schema.ResourceData) (*consulapi.ACLToken, error) {
	t := &consulapi.ACLToken{
		AccessorID:  optString(d, "accessor_id"),
		Description: d.Get("description").(string),
		Local:       d.Get("local").(bool),
		Namespace:   optString(d, "namespace"),
		Partition:   optString(d, "partition"),
	}
	for _, name := range stringSet(d.Get("policies")) {
		t.Policies = append(t.Policies, &consulapi.ACLTokenPolicyLink{Name: name})
	}
	for _, name := range stringSet(d.Get("roles")) {
		t.Roles = append(t.Roles, &consulapi.ACLTokenRoleLink{Name: name})
	}
	for _, raw := range d.Get("service_identities").([]interface{}) {
		m := raw.(map[string]interface{})
		t.ServiceIdentities = append(t.ServiceIdentities, &consulapi.ACLServiceIdentity{
			ServiceName: m["service_name"].(string),
			Datacenters: stringList(m["datacenters"]),
		})
	}
	t.NodeIdentities = nodeIdentitiesFromData(d.Get("node_identities"))
	t.TemplatedPolicies = templatedPoliciesFromData(d.Get("templated_policies"))
	if v := optString(d, "expiration_time"); v != "" {
		exp, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("expiration_time: %w", err)
		}
		t.ExpirationTime = &exp
	}
	return t, nil
}

func resourceConsulACLTokenCreate(d *schema.ResourceData, meta interface{}) error {
	t, err := tokenFromData(d)
	if err != nil {
		return err
	}
	o := resourceOpts(d, "", "namespace", "partition")
	created, _, err := client(meta).ACL().TokenCreate(t, o.write())
	if err != nil {
		return fmt.Errorf("failed to create ACL token: %w", err)
	}
	d.SetId(created.AccessorID)
	return resourceConsulACLTokenRead(d, meta)
}

func resourceConsulACLTokenUpdate(d *schema.ResourceData, meta interface{}) error {
	t, err := tokenFromData(d)
	if err != nil {
		return err
	}
	t.AccessorID = d.Id()
	o := resourceOpts(d, "", "namespace", "partition")
	if _, _, err := client(meta).ACL().TokenUpdate(t, o.write()); err != nil {
		return fmt.Errorf("failed to update ACL token %q: %w", d.Id(), err)
	}
	return resourceConsulACLTokenRead(d, meta)
}

func resourceConsulACLTokenRead(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	t, _, err := client(meta).ACL().TokenRead(d.Id(), o.query())
	if isNotFound(err) || (err == nil && t == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read ACL token %q: %w", d.Id(), err)
	}
	var policies, roles []string
	for _, l := range t.Policies {
		policies = append(policies, l.Name)
	}
	for _, l := range t.Roles {
		roles = append(roles, l.Name)
	}
	sids := flattenServiceIdentities(t.ServiceIdentities)
	nids := flattenNodeIdentities(t.NodeIdentities)
	tps := flattenTemplatedPolicies(t.TemplatedPolicies)
	exp := ""
	if t.ExpirationTime != nil {
		exp = t.ExpirationTime.Format(time.RFC3339)
		if old := optString(d, "expiration_time"); old != "" {
			if ot, err := time.Parse(time.RFC3339, old); err == nil && ot.Equal(*t.ExpirationTime) {
				exp = old // same instant: keep the configured spelling
			}
		}
	}
	for k, v := range map[string]interface{}{
		"accessor_id": t.AccessorID, "description": t.Description, "policies": policies, "roles": roles,
		"service_identities": sids, "node_identities": nids, "templated_policies": tps,
		"local": t.Local, "expiration_time": exp,
	} {
		if err := d.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	// namespace and partition are kept as configured (Consul Enterprise only; CE answers
	// without them, or with "default").
	return nil
}

func resourceConsulACLTokenDelete(d *schema.ResourceData, meta interface{}) error {
	o := resourceOpts(d, "", "namespace", "partition")
	if _, err := client(meta).ACL().TokenDelete(d.Id(), o.write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete ACL token %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
