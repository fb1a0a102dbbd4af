package main

import (
	"fmt"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// consul_prepared_query: a prepared query or query template, /v1/query. The ID is the query ID.
// A template's `${match(N)}` placeholders are stored and read back literally (cdktf code writes
// them as `$${match(N)}`).
func resourceConsulPreparedQuery() *schema.Resource {
	// opt: an optional attribute; a list, set or map holds strings.
	opt := func(t schema.ValueType, desc string) *schema.Schema {
		s := &schema.Schema{Type: t, Optional: true, Description: desc}
		if t == schema.TypeList || t == schema.TypeSet || t == schema.TypeMap {
			s.Elem = &schema.Schema{Type: schema.TypeString}
		}
		return s
	}
	// single: an optional block that occurs at most once.
	single := func(desc string, fields map[string]*schema.Schema) *schema.Schema {
		return &schema.Schema{Type: schema.TypeList, Optional: true, MaxItems: 1, Description: desc, Elem: &schema.Resource{Schema: fields}}
	}
	required := func(desc string) *schema.Schema {
		return &schema.Schema{Type: schema.TypeString, Required: true, Description: desc}
	}
	dc := opt(schema.TypeString, "The datacenter to use. This overrides the agent's default datacenter and the datacenter in the provider setup.")
	dc.ForceNew = true
	targets := opt(schema.TypeList, "Remote datacenters and cluster peers to fail over to, in order (instead of `nearest_n` and `datacenters`).")
	targets.Elem = &schema.Resource{Schema: map[string]*schema.Schema{
		"peer":       opt(schema.TypeString, "Specifies a cluster peer to use for failover."),
		"datacenter": opt(schema.TypeString, "Specifies a WAN federated datacenter to forward the query to."),
	}}
	return &schema.Resource{
		Create: resourceConsulPreparedQueryCreate,
		Read:   resourceConsulPreparedQueryRead,
		Update: resourceConsulPreparedQueryUpdate,
		Delete: resourceConsulPreparedQueryDelete,
		Importer: &schema.ResourceImporter{
			StateContext: schema.ImportStatePassthroughContext,
		},
		Schema: map[string]*schema.Schema{
			"datacenter": dc,
			"name": required("The name of the prepared query. Used to identify the prepared query during requests. " +
				"Can be specified as an empty string to configure the query as a catch-all."),
			"session": opt(schema.TypeString, "The name of the Consul session to tie this query's lifetime to.  This is an advanced "+
				"parameter that should not be used without a complete understanding of Consul sessions and the implications of their use "+
				"(it is recommended to leave this blank in nearly all cases).  If this parameter is omitted the query will not expire."),
			"token": deprecatedTokenSchema("The ACL token to use when saving the prepared query. " +
				"This overrides the token that the agent provides by default."),
			"stored_token": opt(schema.TypeString, "The ACL token to store with the prepared query. "+
				"This token will be used by default whenever the query is executed."),
			"service": required("The name of the service to query"),
			"tags": opt(schema.TypeSet, "The list of required and/or disallowed tags.  If a tag is in this list it must be present.  "+
				`If the tag is preceded with a "!" then it is disallowed.`),
			"near": opt(schema.TypeString, "Allows specifying the name of a node to sort results near using Consul's distance sorting "+
				"and network coordinates. The magic `_agent` value can be used to always sort nearest the node servicing the request."),
			"only_passing": opt(schema.TypeBool, "When `true`, the prepared query will only return nodes with passing health checks in the result."),
			"connect": opt(schema.TypeBool, "When `true` the prepared query will return connect proxy services for a queried service.  "+
				"Conditions such as `tags` in the prepared query will be matched against the proxy service. Defaults to false."),
			"ignore_check_ids": opt(schema.TypeList, "Specifies a list of check IDs that should be ignored when filtering unhealthy "+
				"instances. This is mostly useful in an emergency or as a temporary measure when a health check is found to be unreliable. "+
				"Being able to ignore it in centrally-defined queries can be simpler than de-registering the check as an interim solution "+
				"until the check can be fixed."),
			"node_meta": opt(schema.TypeMap, "Specifies a list of user-defined key/value pairs that will be used for filtering the "+
				"query results to nodes with the given metadata values present."),
			"service_meta": opt(schema.TypeMap, "Specifies a list of user-defined key/value pairs that will be used for filtering the "+
				"query results to services with the given metadata values present."),
			"failover": single("Options for controlling behavior when no healthy nodes are available in the local DC.", map[string]*schema.Schema{
				"nearest_n":   opt(schema.TypeInt, "Return results from this many datacenters, sorted in ascending order of estimated RTT."),
				"datacenters": opt(schema.TypeList, "Remote datacenters to return results from."),
				"targets":     targets,
			}),
			"dns": single("Settings for controlling the DNS response details.", map[string]*schema.Schema{
				"ttl": opt(schema.TypeString, "The TTL to send when returning DNS results."),
			}),
			"template": single("Query templating options, to make a single prepared query respond to many names.", map[string]*schema.Schema{
				"type": required("The type of template matching to perform. Currently only `name_prefix_match` is supported."),
				"regexp": required("The regular expression to match with. When using `name_prefix_match`, " +
					"this regex is applied against the query name."),
				"remove_empty_tags": opt(schema.TypeBool, "If set to true, will cause the tags list inside the service structure "+
					"to be stripped of any empty strings."),
			}),
		},
	}
}

// block is the single element of a MaxItems: 1 block, or nil when it is not configured.
func block(d *schema.ResourceData, key string) map[string]interface{} {
	l, _ := d.Get(key).([]interface{})
	if len(l) == 0 || l[0] == nil {
		return nil
	}
	return l[0].(map[string]interface{})
}

func stringMap(v interface{}) map[string]string {
	out := map[string]string{}
	for k, e := range v.(map[string]interface{}) {
		out[k] = e.(string)
	}
	return out
}

func preparedQueryFromData(d *schema.ResourceData) *consulapi.PreparedQueryDefinition {
	pq := &consulapi.PreparedQueryDefinition{
		ID:      d.Id(),
		Name:    d.Get("name").(string),
		Session: d.Get("session").(string),
		Token:   d.Get("stored_token").(string),
		Service: consulapi.ServiceQuery{
			Service:        d.Get("service").(string),
			Near:           d.Get("near").(string),
			OnlyPassing:    d.Get("only_passing").(bool),
			Connect:        d.Get("connect").(bool),
			Tags:           stringSet(d.Get("tags")),
			IgnoreCheckIDs: stringList(d.Get("ignore_check_ids")),
			NodeMeta:       stringMap(d.Get("node_meta")),
			ServiceMeta:    stringMap(d.Get("service_meta")),
		},
	}
	if f := block(d, "failover"); f != nil {
		pq.Service.Failover = consulapi.QueryFailoverOptions{
			NearestN:    f["nearest_n"].(int),
			Datacenters: stringList(f["datacenters"]),
		}
		for _, raw := range f["targets"].([]interface{}) {
			t, _ := raw.(map[string]interface{})
			if t == nil {
				continue
			}
			pq.Service.Failover.Targets = append(pq.Service.Failover.Targets, consulapi.QueryFailoverTarget{
				Peer: t["peer"].(string), Datacenter: t["datacenter"].(string),
			})
		}
	}
	if t := block(d, "template"); t != nil {
		pq.Template = consulapi.QueryTemplate{
			Type: t["type"].(string), Regexp: t["regexp"].(string), RemoveEmptyTags: t["remove_empty_tags"].(bool),
		}
	}
	if b := block(d, "dns"); b != nil {
		pq.DNS = consulapi.QueryDNSOptions{TTL: b["ttl"].(string)}
	}
	return pq
}

func preparedQueryOpts(d *schema.ResourceData) opts {
	return resourceOpts(d, optString(d, "datacenter"), "token")
}

func resourceConsulPreparedQueryCreate(d *schema.ResourceData, meta interface{}) error {
	pq := preparedQueryFromData(d)
	id, _, err := client(meta).PreparedQuery().Create(pq, preparedQueryOpts(d).write())
	if err != nil {
		return fmt.Errorf("failed to create prepared query %q: %w", pq.Name, err)
	}
	d.SetId(id)
	return resourceConsulPreparedQueryRead(d, meta)
}

func resourceConsulPreparedQueryUpdate(d *schema.ResourceData, meta interface{}) error {
	if _, err := client(meta).PreparedQuery().Update(preparedQueryFromData(d), preparedQueryOpts(d).write()); err != nil {
		return fmt.Errorf("failed to update prepared query %q: %w", d.Id(), err)
	}
	return resourceConsulPreparedQueryRead(d, meta)
}

func resourceConsulPreparedQueryRead(d *schema.ResourceData, meta interface{}) error {
	queries, _, err := client(meta).PreparedQuery().Get(d.Id(), preparedQueryOpts(d).query())
	if isNotFound(err) || (err != nil && strings.Contains(strings.ToLower(err.Error()), "not found")) || (err == nil && len(queries) != 1) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read prepared query %q: %w", d.Id(), err)
	}
	pq := queries[0]
	svc := pq.Service
	values := map[string]interface{}{
		"name": pq.Name, "session": pq.Session, "service": svc.Service, "near": svc.Near,
		"only_passing": svc.OnlyPassing, "connect": svc.Connect, "tags": svc.Tags, "ignore_check_ids": svc.IgnoreCheckIDs,
		"node_meta": svc.NodeMeta, "service_meta": svc.ServiceMeta,
	}
	// A token that the reading token may not see comes back as "<hidden>": keep the configured one.
	if pq.Token != "<hidden>" {
		values["stored_token"] = pq.Token
	}
	// The blocks are written back when configured or when Consul holds a non-default value, so
	// that neither an absent block nor an empty one shows as a change.
	fo := svc.Failover
	if block(d, "failover") != nil || fo.NearestN != 0 || len(fo.Datacenters) > 0 || len(fo.Targets) > 0 {
		targets := make([]interface{}, 0, len(fo.Targets))
		for _, t := range fo.Targets {
			targets = append(targets, map[string]interface{}{"peer": t.Peer, "datacenter": t.Datacenter})
		}
		values["failover"] = []interface{}{map[string]interface{}{"nearest_n": fo.NearestN, "datacenters": fo.Datacenters, "targets": targets}}
	} else {
		values["failover"] = []interface{}{}
	}
	if block(d, "dns") != nil || pq.DNS.TTL != "" {
		values["dns"] = []interface{}{map[string]interface{}{"ttl": pq.DNS.TTL}}
	} else {
		values["dns"] = []interface{}{}
	}
	if tp := pq.Template; block(d, "template") != nil || tp.Type != "" || tp.Regexp != "" || tp.RemoveEmptyTags {
		values["template"] = []interface{}{map[string]interface{}{"type": tp.Type, "regexp": tp.Regexp, "remove_empty_tags": tp.RemoveEmptyTags}}
	} else {
		values["template"] = []interface{}{}
	}
	if err := setAll(d, values); err != nil {
		return err
	}
	// datacenter and token are kept as configured.
	return nil
}

func resourceConsulPreparedQueryDelete(d *schema.ResourceData, meta interface{}) error {
	if _, err := client(meta).PreparedQuery().Delete(d.Id(), preparedQueryOpts(d).write()); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete prepared query %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
