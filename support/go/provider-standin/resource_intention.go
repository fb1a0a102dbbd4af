package main

import (
	"fmt"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
)

// consul_intention: a legacy (ID-based) intention, /v1/connect/intentions, as on Consul 1.8.
// The ID is the intention ID.
func resourceConsulIntention() *schema.Resource {
	return &schema.Resource{
		Create: resourceConsulIntentionCreate,
		Read:   resourceConsulIntentionRead,
		Update: resourceConsulIntentionUpdate,
		Delete: resourceConsulIntentionDelete,
		Importer: &schema.ResourceImporter{
			StateContext: schema.ImportStatePassthroughContext,
		},
		DeprecationMessage: "The consul_intention resource is deprecated in favor of the consul_config_entry resource. " +
			"Please see the documentation for more information.",
		Schema: map[string]*schema.Schema{
			"source_name":           {Type: schema.TypeString, Required: true, ForceNew: true},
			"source_namespace":      {Type: schema.TypeString, Optional: true, ForceNew: true},
			"destination_name":      {Type: schema.TypeString, Required: true, ForceNew: true},
			"destination_namespace": {Type: schema.TypeString, Optional: true, ForceNew: true},
			"description":           {Type: schema.TypeString, Optional: true},
			"action": {
				Type:         schema.TypeString,
				Required:     true,
				ValidateFunc: validation.StringInSlice([]string{"allow", "deny"}, false),
			},
			"meta":       {Type: schema.TypeMap, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"datacenter": {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
		},
	}
}

func intentionFromData(d *schema.ResourceData) *consulapi.Intention {
	meta := map[string]string{}
	for k, v := range d.Get("meta").(map[string]interface{}) {
		meta[k] = v.(string)
	}
	return &consulapi.Intention{
		SourceName:      d.Get("source_name").(string),
		SourceNS:        optString(d, "source_namespace"),
		DestinationName: d.Get("destination_name").(string),
		DestinationNS:   optString(d, "destination_namespace"),
		SourceType:      consulapi.IntentionSourceConsul,
		Action:          consulapi.IntentionAction(d.Get("action").(string)),
		Description:     d.Get("description").(string),
		Meta:            meta,
	}
}

func resourceConsulIntentionCreate(d *schema.ResourceData, meta interface{}) error {
	dc, err := getDC(d, meta)
	if err != nil {
		return err
	}
	ixn := intentionFromData(d)
	//lint:ignore SA1019 the legacy API is the point of this resource (Consul 1.8)
	id, _, err := client(meta).Connect().IntentionCreate(ixn, &consulapi.WriteOptions{Datacenter: dc})
	if err != nil {
		return fmt.Errorf("failed to create intention %s -> %s: %w", ixn.SourceName, ixn.DestinationName, err)
	}
	d.SetId(id)
	return resourceConsulIntentionRead(d, meta)
}

func resourceConsulIntentionUpdate(d *schema.ResourceData, meta interface{}) error {
	dc, err := getDC(d, meta)
	if err != nil {
		return err
	}
	ixn := intentionFromData(d)
	ixn.ID = d.Id()
	//lint:ignore SA1019 the legacy API is the point of this resource (Consul 1.8)
	if _, err := client(meta).Connect().IntentionUpdate(ixn, &consulapi.WriteOptions{Datacenter: dc}); err != nil {
		return fmt.Errorf("failed to update intention %q: %w", d.Id(), err)
	}
	return resourceConsulIntentionRead(d, meta)
}

func resourceConsulIntentionRead(d *schema.ResourceData, meta interface{}) error {
	dc, err := getDC(d, meta)
	if err != nil {
		return err
	}
	//lint:ignore SA1019 the legacy API is the point of this resource (Consul 1.8)
	ixn, _, err := client(meta).Connect().IntentionGet(d.Id(), &consulapi.QueryOptions{Datacenter: dc})
	if isNotFound(err) || (err == nil && ixn == nil) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read intention %q: %w", d.Id(), err)
	}
	meta2 := map[string]interface{}{}
	for k, v := range ixn.Meta {
		meta2[k] = v
	}
	for k, v := range map[string]interface{}{
		"source_name": ixn.SourceName, "destination_name": ixn.DestinationName,
		"action": string(ixn.Action), "description": ixn.Description, "meta": meta2, "datacenter": dc,
	} {
		if err := d.Set(k, v); err != nil {
			return err
		}
	}
	// source_namespace / destination_namespace stay as configured: CE answers "default".
	return nil
}

func resourceConsulIntentionDelete(d *schema.ResourceData, meta interface{}) error {
	dc, err := getDC(d, meta)
	if err != nil {
		return err
	}
	//lint:ignore SA1019 the legacy API is the point of this resource (Consul 1.8)
	if _, err := client(meta).Connect().IntentionDelete(d.Id(), &consulapi.WriteOptions{Datacenter: dc}); err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to delete intention %q: %w", d.Id(), err)
	}
	d.SetId("")
	return nil
}
