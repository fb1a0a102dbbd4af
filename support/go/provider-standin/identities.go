package main

import (
	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// The blocks consul_acl_role and consul_acl_token share: node identities and templated
// policies (the same schema in both but for the owner named in the descriptions), and the
// conversions between them and the API's types.

// nodeIdentitiesSchema: `owner` is "role" or "token"; dcDescription as the real provider words it.
func nodeIdentitiesSchema(owner, dcDescription string) *schema.Schema {
	return &schema.Schema{
		Type:        schema.TypeList,
		Optional:    true,
		Description: "The list of node identities that should be applied to the " + owner + ".",
		Elem: &schema.Resource{Schema: map[string]*schema.Schema{
			"node_name":  {Type: schema.TypeString, Required: true, Description: "The name of the node."},
			"datacenter": {Type: schema.TypeString, Required: true, Description: dcDescription},
		}},
	}
}

func templatedPoliciesSchema(owner string) *schema.Schema {
	strElem := &schema.Schema{Type: schema.TypeString}
	return &schema.Schema{
		Type:        schema.TypeList,
		Optional:    true,
		Description: "The list of templated policies that should be applied to the " + owner + ".",
		Elem: &schema.Resource{Schema: map[string]*schema.Schema{
			"template_name": {Type: schema.TypeString, Required: true, Description: "The name of the templated policies."},
			"template_variables": {
				Type:        schema.TypeList,
				Optional:    true,
				MaxItems:    1,
				Description: "The templated policy variables.",
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"name": {Type: schema.TypeString, Optional: true, Description: "The name of node, workload identity or service."},
				}},
			},
			"datacenters": {Type: schema.TypeList, Optional: true, Elem: strElem, Description: "Specifies the datacenters the effective policy is valid within."},
		}},
	}
}

func nodeIdentitiesFromData(v interface{}) []*consulapi.ACLNodeIdentity {
	var out []*consulapi.ACLNodeIdentity
	for _, raw := range v.([]interface{}) {
		m := raw.(map[string]interface{})
		out = append(out, &consulapi.ACLNodeIdentity{NodeName: m["node_name"].(string), Datacenter: m["datacenter"].(string)})
	}
	return out
}

func templatedPoliciesFromData(v interface{}) []*consulapi.ACLTemplatedPolicy {
	var out []*consulapi.ACLTemplatedPolicy
	for _, raw := range v.([]interface{}) {
		m := raw.(map[string]interface{})
		tp := &consulapi.ACLTemplatedPolicy{
			TemplateName: m["template_name"].(string),
			Datacenters:  stringList(m["datacenters"]),
		}
		if vars := m["template_variables"].([]interface{}); len(vars) > 0 && vars[0] != nil {
			tp.TemplateVariables = &consulapi.ACLTemplatedPolicyVariables{Name: vars[0].(map[string]interface{})["name"].(string)}
		}
		out = append(out, tp)
	}
	return out
}

func flattenServiceIdentities(sids []*consulapi.ACLServiceIdentity) []interface{} {
	out := make([]interface{}, 0, len(sids))
	for _, s := range sids {
		out = append(out, map[string]interface{}{"service_name": s.ServiceName, "datacenters": s.Datacenters})
	}
	return out
}

func flattenNodeIdentities(nids []*consulapi.ACLNodeIdentity) []interface{} {
	out := make([]interface{}, 0, len(nids))
	for _, n := range nids {
		out = append(out, map[string]interface{}{"node_name": n.NodeName, "datacenter": n.Datacenter})
	}
	return out
}

func flattenTemplatedPolicies(tps []*consulapi.ACLTemplatedPolicy) []interface{} {
	out := make([]interface{}, 0, len(tps))
	for _, tp := range tps {
		m := map[string]interface{}{"template_name": tp.TemplateName, "datacenters": tp.Datacenters}
		if tp.TemplateVariables != nil {
			m["template_variables"] = []interface{}{map[string]interface{}{"name": tp.TemplateVariables.Name}}
		}
		out = append(out, m)
	}
	return out
}
